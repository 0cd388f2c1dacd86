/* Usage page: totals, cost-over-time and by-source charts, top consumers, records (API.md §15). */
(function () {
  "use strict";

  var root = document.getElementById("usage-page");
  if (!root) return;
  var api = window.Cognova.api;
  var SOURCES = [
    { key: "chat", bucket: "chat", label: "Chat", color: "#5b5bd6" },
    { key: "agent", bucket: "agent", label: "Agents", color: "#0ea5e9" },
    { key: "memory_extraction", bucket: "memory", label: "Memory", color: "#f59e0b" },
  ];
  var LABELS = { chat: "Chat", agent: "Agent", memory_extraction: "Memory" };
  var state = { period: "7d", granularity: "daily", page: 1, limit: 20, source: "", search: "" };
  var costChart = null, sourceChart = null;

  function $(id) { return document.getElementById(id); }

  function money(value) {
    if (!value) return "$0.00";
    if (value < 0.01) return "$" + value.toFixed(4);
    if (value < 100) return "$" + value.toFixed(2);
    return "$" + Math.round(value).toLocaleString();
  }

  function count(value) {
    if (value >= 1e9) return (value / 1e9).toFixed(1) + "B";
    if (value >= 1e6) return (value / 1e6).toFixed(1) + "M";
    if (value >= 1e4) return (value / 1e3).toFixed(1) + "k";
    return (value || 0).toLocaleString();
  }

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
  }

  function bucketLabel(date, hourly) {
    if (hourly) return date.slice(11, 16);
    var d = new Date(date + "T00:00:00");
    return d.toLocaleDateString(undefined, { month: "short", day: "numeric" });
  }

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  // ------------------------------------------------------------------ stats

  function renderCards(s) {
    $("stat-cost").textContent = money(s.totalCostUsd);
    $("stat-calls").textContent = s.totalCalls.toLocaleString();
    $("stat-avg").textContent = s.totalCalls ? money(s.avgCostPerCall) + " per call" : "no calls";
    $("stat-input").textContent = count(s.totalInputTokens);
    $("stat-output").textContent = count(s.totalOutputTokens);
    var names = { "24h": "last 24 hours", "7d": "last 7 days", "30d": "last 30 days" };
    $("stat-cost-note").textContent = names[state.period];
  }

  function renderCostChart(buckets, hourly) {
    var canvas = $("usage-chart");
    if (!canvas || typeof Chart === "undefined") return;
    var muted = cssVar("--muted"), grid = cssVar("--border");
    var data = {
      labels: buckets.map(function (b) { return bucketLabel(b.date, hourly); }),
      datasets: SOURCES.map(function (src) {
        return {
          label: src.label,
          data: buckets.map(function (b) { return b[src.bucket]; }),
          backgroundColor: src.color,
          borderRadius: 3,
          maxBarThickness: 34,
          stack: "cost",
        };
      }),
    };
    if (costChart) costChart.destroy();
    costChart = new Chart(canvas, {
      type: "bar",
      data: data,
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { position: "bottom", labels: { color: muted, boxWidth: 10, boxHeight: 10, usePointStyle: true, pointStyle: "rectRounded" } },
          tooltip: {
            callbacks: {
              title: function (items) { return buckets[items[0].dataIndex].date.replace("T", " "); },
              label: function (item) { return " " + item.dataset.label + ": " + money(item.raw); },
              footer: function (items) {
                var b = buckets[items[0].dataIndex];
                return "Total " + money(b.totalCost) + " · " + b.calls + " calls";
              },
            },
          },
        },
        scales: {
          x: { stacked: true, grid: { display: false }, ticks: { color: muted, maxRotation: 0, autoSkipPadding: 12 } },
          y: { stacked: true, beginAtZero: true, grid: { color: grid }, border: { display: false },
               ticks: { color: muted, callback: function (v) { return money(v); } } },
        },
      },
    });
  }

  function renderSources(bySource) {
    var canvas = $("source-chart");
    var total = bySource.reduce(function (sum, s) { return sum + s.cost; }, 0);
    var legend = $("source-legend");
    legend.textContent = "";
    bySource.forEach(function (s, i) {
      var li = document.createElement("li");
      var dot = document.createElement("span");
      dot.className = "legend-dot";
      dot.style.background = SOURCES[i].color;
      var name = document.createElement("span");
      name.className = "legend-name";
      name.textContent = SOURCES[i].label;
      var value = document.createElement("strong");
      value.textContent = money(s.cost);
      var share = document.createElement("span");
      share.className = "muted legend-share";
      share.textContent = (total ? Math.round((s.cost / total) * 100) : 0) + "% · " + s.calls.toLocaleString() + " calls";
      li.append(dot, name, share, value);
      legend.appendChild(li);
    });
    if (!canvas || typeof Chart === "undefined") return;
    if (sourceChart) sourceChart.destroy();
    var empty = total === 0;
    sourceChart = new Chart(canvas, {
      type: "doughnut",
      data: {
        labels: SOURCES.map(function (s) { return s.label; }),
        datasets: [{
          data: empty ? [1] : bySource.map(function (s) { return s.cost; }),
          backgroundColor: empty ? [cssVar("--surface-2")] : SOURCES.map(function (s) { return s.color; }),
          borderColor: cssVar("--surface"),
          borderWidth: 2,
        }],
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false, cutout: "68%",
        plugins: {
          legend: { display: false },
          tooltip: { enabled: !empty, callbacks: { label: function (item) { return " " + item.label + ": " + money(item.raw); } } },
        },
      },
    });
  }

  function renderConsumers(top) {
    var list = $("consumer-list");
    list.textContent = "";
    if (!top.length) {
      var li = document.createElement("li");
      li.className = "muted";
      li.textContent = "No usage in this period.";
      list.appendChild(li);
      return;
    }
    var max = top[0].cost || 1;
    top.forEach(function (c) {
      var li = document.createElement("li");
      li.className = "consumer";
      var head = document.createElement("div");
      head.className = "consumer-head";
      var name = document.createElement("span");
      name.className = "consumer-name";
      name.textContent = c.name;
      name.title = c.name;
      var badge = document.createElement("span");
      badge.className = "badge source-" + c.source;
      badge.textContent = LABELS[c.source] || c.source;
      var cost = document.createElement("strong");
      cost.textContent = money(c.cost);
      head.append(name, badge, cost);
      var bar = document.createElement("div");
      bar.className = "consumer-bar";
      var fill = document.createElement("span");
      fill.style.width = Math.max(2, (c.cost / max) * 100) + "%";
      fill.className = "source-" + c.source;
      bar.appendChild(fill);
      var meta = document.createElement("small");
      meta.className = "muted";
      meta.textContent = c.calls.toLocaleString() + " calls · " + count(c.tokens) + " tokens";
      li.append(head, bar, meta);
      list.appendChild(li);
    });
  }

  async function loadStats() {
    var query = "?period=" + state.period + "&granularity=" + state.granularity +
      "&tzOffset=" + new Date().getTimezoneOffset();
    try {
      var s = (await api("GET", "/api/usage/stats" + query)).data;
      renderCards(s);
      renderCostChart(s.dailyUsage, state.granularity === "hourly");
      renderSources(s.bySource);
      renderConsumers(s.topConsumers);
    } catch (err) {
      window.Cognova.toast("Could not load usage", err.message, "error");
    }
  }

  // ------------------------------------------------------------------ records

  async function loadRecords() {
    var params = new URLSearchParams({ period: state.period, page: state.page, limit: state.limit });
    if (state.source) params.set("source", state.source);
    if (state.search) params.set("search", state.search);
    var body = document.querySelector("#usage-table tbody");
    try {
      var result = await api("GET", "/api/usage?" + params.toString());
      body.textContent = "";
      if (!result.data.length) {
        var tr = document.createElement("tr");
        cell(tr, state.search || state.source ? "No records match." : "No usage in this period.", "muted empty-row").colSpan = 7;
        body.appendChild(tr);
      }
      result.data.forEach(function (r) {
        var tr = document.createElement("tr");
        var when = new Date(r.createdAt);
        cell(tr, when.toLocaleDateString(undefined, { month: "short", day: "numeric" }) + " " +
          when.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" }), "nowrap muted");
        var src = document.createElement("td");
        var badge = document.createElement("span");
        badge.className = "badge source-" + r.source;
        badge.textContent = LABELS[r.source] || r.source;
        src.appendChild(badge);
        tr.appendChild(src);
        cell(tr, r.sourceName || "(unnamed)", r.sourceName ? "record-name" : "record-name muted");
        cell(tr, r.inputTokens.toLocaleString(), "num");
        cell(tr, r.outputTokens.toLocaleString(), "num");
        cell(tr, money(r.costUsd), "num strong");
        cell(tr, r.durationMs == null ? "—" : (r.durationMs / 1000).toFixed(1) + " s", "num muted");
        body.appendChild(tr);
      });
      var p = result.pagination;
      $("pager-info").textContent = p.total
        ? "Page " + p.page + " of " + p.totalPages + " · " + p.total.toLocaleString() + " records"
        : "";
      $("pager-prev").disabled = p.page <= 1;
      $("pager-next").disabled = p.page >= p.totalPages;
    } catch (err) {
      window.Cognova.toast("Could not load records", err.message, "error");
    }
  }

  // ------------------------------------------------------------------ controls

  function markControls() {
    document.querySelectorAll("#usage-period [data-period]").forEach(function (b) {
      var on = b.dataset.period === state.period;
      b.classList.toggle("active", on);
      b.setAttribute("aria-checked", on ? "true" : "false");
    });
    document.querySelectorAll("#usage-granularity [data-granularity]").forEach(function (b) {
      b.classList.toggle("active", b.dataset.granularity === state.granularity);
      b.setAttribute("aria-selected", b.dataset.granularity === state.granularity ? "true" : "false");
    });
  }

  function refresh() {
    markControls();
    loadStats();
    loadRecords();
  }

  $("usage-period").addEventListener("click", function (e) {
    var btn = e.target.closest("[data-period]");
    if (!btn || btn.dataset.period === state.period) return;
    state.period = btn.dataset.period;
    state.granularity = state.period === "24h" ? "hourly" : "daily";
    state.page = 1;
    refresh();
    api("PUT", "/api/settings", { ui: { usage: { period: state.period } } }).catch(function () {});
  });

  $("usage-granularity").addEventListener("click", function (e) {
    var btn = e.target.closest("[data-granularity]");
    if (!btn || btn.dataset.granularity === state.granularity) return;
    state.granularity = btn.dataset.granularity;
    markControls();
    loadStats();
  });

  $("usage-source").addEventListener("change", function () {
    state.source = this.value;
    state.page = 1;
    loadRecords();
  });

  var timer = null;
  $("usage-search").addEventListener("input", function () {
    var value = this.value.trim();
    clearTimeout(timer);
    timer = setTimeout(function () { state.search = value; state.page = 1; loadRecords(); }, 250);
  });

  $("pager-prev").addEventListener("click", function () { if (state.page > 1) { state.page--; loadRecords(); } });
  $("pager-next").addEventListener("click", function () { state.page++; loadRecords(); });

  // Charts take their colours from the theme; redraw when it changes.
  new MutationObserver(function () { loadStats(); })
    .observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });

  api("GET", "/api/settings").then(function (body) {
    var saved = body.data.ui && body.data.ui.usage && body.data.ui.usage.period;
    if (saved === "24h" || saved === "7d" || saved === "30d") state.period = saved;
  }).catch(function () {}).finally(function () {
    state.granularity = state.period === "24h" ? "hourly" : "daily";
    refresh();
  });
})();
