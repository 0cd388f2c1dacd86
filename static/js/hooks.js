/* Hook analytics: stats cards, daily chart, types, tools, sessions and the filterable event list. */
(function () {
  "use strict";

  var TYPES = ["SessionStart", "SessionEnd", "UserPromptSubmit", "PreToolUse", "PostToolUse", "PostToolUseFailure"];
  var chart = null;
  var session = null;

  function $(id) { return document.getElementById(id); }
  function cssVar(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "className") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function period() { return (document.querySelector("#hooks-period input:checked") || {}).value || "7d"; }
  function number(n) { return Number(n || 0).toLocaleString(); }
  function ms(n) { return n >= 1000 ? (n / 1000).toFixed(1) + " s" : n + " ms"; }
  function shortId(id) { return id.length > 12 ? id.slice(0, 8) + "…" : id; }

  function renderChart(days) {
    var canvas = $("hooks-chart");
    var muted = cssVar("--muted"), grid = cssVar("--border");
    var data = {
      labels: days.map(function (d) { return d.date.slice(5); }),
      datasets: [
        { label: "Allowed", data: days.map(function (d) { return d.allowed; }), backgroundColor: cssVar("--accent"), borderRadius: 4, stack: "s" },
        { label: "Blocked", data: days.map(function (d) { return d.blocked; }), backgroundColor: cssVar("--error"), borderRadius: 4, stack: "s" },
      ],
    };
    if (chart) chart.destroy();
    chart = new Chart(canvas, {
      type: "bar",
      data: data,
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { position: "bottom", labels: { color: muted, boxWidth: 10, boxHeight: 10, usePointStyle: true, pointStyle: "rectRounded" } },
          tooltip: { callbacks: {
            title: function (items) { return days[items[0].dataIndex].date; },
            footer: function (items) { var d = days[items[0].dataIndex]; return d.total + " events · avg " + ms(d.avgDurationMs); },
          } },
        },
        scales: {
          x: { stacked: true, grid: { display: false }, ticks: { color: muted, maxRotation: 0, autoSkipPadding: 10 } },
          y: { stacked: true, beginAtZero: true, grid: { color: grid }, border: { display: false }, ticks: { color: muted, precision: 0 } },
        },
      },
    });
  }

  function renderTypes(byType, total) {
    var list = $("hook-types");
    list.innerHTML = "";
    TYPES.forEach(function (type) {
      var count = byType[type] || 0;
      var share = total ? Math.round((100 * count) / total) : 0;
      list.appendChild(el("li", { className: "hook-type" }, [
        el("span", { className: "hook-type-name", text: type }),
        el("span", { className: "hook-type-bar" }, [el("span", { className: "hook-type-fill t-" + type, style: "width:" + share + "%" })]),
        el("span", { className: "hook-type-count", text: number(count) }),
      ]));
    });
  }

  function renderTools(tools) {
    var body = $("hook-tools").tBodies[0];
    body.innerHTML = "";
    if (!tools.length) {
      body.appendChild(el("tr", {}, [el("td", { colspan: "5", className: "muted empty-row", text: "No tool calls in this period." })]));
      return;
    }
    tools.forEach(function (tool) {
      var rate = tool.total ? Math.round((100 * tool.blocked) / tool.total) : 0;
      var toolLink = el("button", { className: "link-btn strong", type: "button", "data-tool": tool.toolName, text: tool.toolName });
      body.appendChild(el("tr", {}, [
        el("td", {}, [toolLink]),
        el("td", { className: "num", text: number(tool.total) }),
        el("td", { className: "num", text: number(tool.blocked) }),
        el("td", { className: "block-rate-cell" }, [
          el("span", { className: "block-rate-bar" }, [el("span", { className: "block-rate-fill", style: "width:" + rate + "%" })]),
          el("span", { className: "block-rate-num", text: rate + "%" }),
        ]),
        el("td", { className: "num", text: ms(tool.avgDurationMs) }),
      ]));
    });
  }

  function renderSessions(sessions) {
    var list = $("hook-sessions");
    list.innerHTML = "";
    if (!sessions.length) list.appendChild(el("li", { className: "muted", text: "No sessions in this period." }));
    sessions.forEach(function (id) {
      list.appendChild(el("li", {}, [el("button", { className: "link-btn mono", type: "button", "data-session": id, title: id, text: id })]));
    });
    $("hook-sessions-note").textContent = sessions.length ? sessions.length + (sessions.length === 10 ? "+" : "") + " recent sessions" : "\u00a0";
  }

  async function loadStats() {
    try {
      var stats = (await Cognova.api("GET", "/api/hooks/stats?period=" + period())).data;
      $("hook-total").textContent = number(stats.totalEvents);
      $("hook-blocked").textContent = number(stats.blockedEvents);
      $("hook-rate").textContent = stats.blockRate + "%";
      $("hook-duration").textContent = ms(stats.avgDurationMs);
      renderChart(stats.dailyActivity);
      renderTypes(stats.eventsByType, stats.totalEvents);
      renderTools(stats.toolBreakdown);
      renderSessions(stats.recentSessions);
    } catch (err) {
      Cognova.toast("Could not load hook stats", err.message, "error");
    }
  }

  function eventRow(event) {
    var result = event.blocked
      ? el("span", { className: "badge status-blocked", text: "Blocked", title: event.blockReason || "" })
      : el("span", { className: "badge", text: event.exitCode != null ? "Exit " + event.exitCode : "OK" });
    var when = new Date(event.createdAt);
    return el("tr", { title: event.blockReason || "" }, [
      el("td", { className: "nowrap", text: when.toLocaleDateString() + " " + when.toLocaleTimeString() }),
      el("td", {}, [el("span", { className: "badge hook-event t-" + event.eventType, text: event.eventType })]),
      el("td", { className: "strong", text: event.toolName || "–" }),
      el("td", { className: "mono", title: event.sessionId || "", text: event.sessionId ? shortId(event.sessionId) : "–" }),
      el("td", { className: "hook-project mono", title: event.projectDir || "", text: event.projectDir || "–" }),
      el("td", { className: "num", text: event.durationMs != null ? ms(event.durationMs) : "–" }),
      el("td", {}, [result]),
    ]);
  }

  async function loadEvents() {
    var params = new URLSearchParams({ limit: 100 });
    if ($("event-type").value) params.set("eventType", $("event-type").value);
    if ($("event-tool").value.trim()) params.set("toolName", $("event-tool").value.trim());
    if ($("event-blocked").value) params.set("blocked", $("event-blocked").value);
    if (session) params.set("sessionId", session);
    var body = $("hook-events").tBodies[0];
    try {
      var events = (await Cognova.api("GET", "/api/hooks/events?" + params.toString())).data;
      body.innerHTML = "";
      if (!events.length) body.appendChild(el("tr", {}, [el("td", { colspan: "7", className: "muted empty-row", text: "No events. Install the hooks with: flask install-claude-hooks" })]));
      events.forEach(function (event) { body.appendChild(eventRow(event)); });
    } catch (err) {
      Cognova.toast("Could not load events", err.message, "error");
    }
  }

  function filterSession(id) {
    session = id;
    $("event-session").hidden = !id;
    $("event-session-text").textContent = id ? "Session " + shortId(id) : "";
    loadEvents();
  }

  document.querySelectorAll("#hooks-period input").forEach(function (input) { input.addEventListener("change", loadStats); });
  $("event-type").addEventListener("change", loadEvents);
  $("event-blocked").addEventListener("change", loadEvents);
  var toolTimer = null;
  $("event-tool").addEventListener("input", function () { clearTimeout(toolTimer); toolTimer = setTimeout(loadEvents, 250); });
  $("event-session-clear").addEventListener("click", function () { filterSession(null); });
  $("hooks-page").addEventListener("click", function (event) {
    var s = event.target.closest("[data-session]");
    var t = event.target.closest("[data-tool]");
    if (s) filterSession(s.getAttribute("data-session"));
    if (t) { $("event-tool").value = t.getAttribute("data-tool"); loadEvents(); }
  });
  var refreshTimer = null;
  document.addEventListener("cognova:change", function (event) {
    if (!event.detail || event.detail.resource !== "hook") return;
    clearTimeout(refreshTimer);  // a burst of events refreshes once
    refreshTimer = setTimeout(function () { loadStats(); loadEvents(); }, 1000);
  });

  loadStats();
  loadEvents();
})();
