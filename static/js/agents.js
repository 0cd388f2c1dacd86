/* Agents: the list (stats, chart, cards, form) and one agent's detail (runs, run modal). */
(function () {
  "use strict";

  var root = document.getElementById("agents-page");
  if (!root) return;
  var view = root.dataset.view;
  var agentId = root.dataset.agentId || null;
  var period = "7d";
  var chart = null;
  var agents = [];
  var current = null; // the agent shown on the detail page
  var editing = null; // the agent being edited in the form, or null for a new one
  var refreshTimer = null;
  var pollTimer = null;

  var STATUS_LABELS = {
    running: "Running",
    success: "Success",
    error: "Error",
    budget_exceeded: "Budget exceeded",
    cancelled: "Cancelled",
  };

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "className") node.className = attrs[key];
      else if (key.indexOf("data-") === 0 || key === "title" || key === "type" || key === "href" || key === "aria-label") node.setAttribute(key, attrs[key]);
      else node[key] = attrs[key];
    });
    (children || []).forEach(function (child) {
      if (child == null) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  // ------------------------------------------------------------------ formatting

  function when(iso) {
    if (!iso) return "—";
    var date = new Date(iso);
    var diff = (date.getTime() - Date.now()) / 1000;
    var abs = Math.abs(diff);
    var rel;
    if (abs < 45) rel = diff >= 0 ? "in a few seconds" : "just now";
    else if (abs < 3600) rel = Math.round(abs / 60) + " min";
    else if (abs < 86400) rel = Math.round(abs / 3600) + " h";
    else rel = Math.round(abs / 86400) + " d";
    if (abs >= 45) rel = diff >= 0 ? "in " + rel : rel + " ago";
    return rel;
  }

  function stamp(iso) {
    if (!iso) return "—";
    return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }

  function duration(ms) {
    if (ms == null) return "—";
    if (ms < 1000) return ms + " ms";
    var s = ms / 1000;
    if (s < 60) return s.toFixed(1) + " s";
    var m = Math.floor(s / 60);
    return m + " min " + Math.round(s - m * 60) + " s";
  }

  function money(value) {
    if (value == null) return "—";
    if (value === 0) return "$0.00";
    return value < 0.01 ? "$" + value.toFixed(4) : "$" + value.toFixed(2);
  }

  function badge(status) {
    if (!status) return el("span", { className: "badge", text: "Never run" });
    return el("span", { className: "badge status-" + status, text: STATUS_LABELS[status] || status });
  }

  // ------------------------------------------------------------------ period (remembered in settings)

  function loadPeriod() {
    return Cognova.api("GET", "/api/settings").then(function (res) {
      var ui = (res.data && res.data.ui) || {};
      var saved = ui.agents && ui.agents.period;
      if (saved === "24h" || saved === "7d" || saved === "30d") period = saved;
    }).catch(function () {}).then(function () {
      $("agents-period").value = period;
    });
  }

  function savePeriod(value) {
    period = value;
    Cognova.api("PUT", "/api/settings", { ui: { agents: { period: value } } }).catch(function () {});
  }

  // ------------------------------------------------------------------ chart

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function renderChart(daily) {
    var canvas = $("agents-chart");
    if (!canvas || typeof Chart === "undefined") return;
    var labels = daily.map(function (d) { return d.date.slice(5); });
    var sets = [
      ["Success", "success", cssVar("--success")],
      ["Error", "error", cssVar("--error")],
      ["Budget exceeded", "budgetExceeded", cssVar("--warning")],
      ["Cancelled", "cancelled", cssVar("--muted")],
    ].map(function (s) {
      return {
        label: s[0],
        data: daily.map(function (d) { return d[s[1]]; }),
        backgroundColor: s[2],
        borderRadius: 3,
        maxBarThickness: 28,
      };
    });
    var text = cssVar("--muted");
    var grid = cssVar("--border");
    if (chart) {
      chart.data.labels = labels;
      chart.data.datasets.forEach(function (ds, i) { ds.data = sets[i].data; });
      chart.update();
      return;
    }
    chart = new Chart(canvas, {
      type: "bar",
      data: { labels: labels, datasets: sets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { position: "bottom", labels: { color: text, boxWidth: 12 } } },
        scales: {
          x: { stacked: true, ticks: { color: text }, grid: { display: false } },
          y: { stacked: true, beginAtZero: true, ticks: { color: text, precision: 0 }, grid: { color: grid } },
        },
      },
    });
  }

  // ------------------------------------------------------------------ list page

  function loadGlobalStats() {
    return Cognova.api("GET", "/api/agents/stats?period=" + period).then(function (res) {
      var s = res.data;
      $("stat-agents").textContent = s.totalAgents;
      $("stat-active").textContent = s.activeAgents + " enabled";
      $("stat-runs").textContent = s.runsInPeriod;
      $("stat-running").textContent = s.runningAgentIds.length ? s.runningAgentIds.length + " running now" : "none running";
      $("stat-success").textContent = s.successRate + "%";
      $("stat-cost").textContent = money(s.totalCostUsd);
      renderChart(s.dailyRuns);
    });
  }

  function agentCard(agent) {
    var toggle = el("input", { type: "checkbox", className: "toggle", checked: agent.enabled, "data-action": "toggle", "data-id": agent.id, "aria-label": "Enabled" });
    var state = agent.isRunning ? badge("running") : badge(agent.lastStatus);
    var actions = el("div", { className: "agent-actions" }, [
      el("label", { className: "toggle-label", title: agent.enabled ? "Disable schedule" : "Enable schedule" }, [toggle, el("span", { text: agent.enabled ? "On" : "Off" })]),
      el("span", { className: "spacer" }),
      agent.isRunning
        ? el("button", { className: "btn small danger", type: "button", "data-action": "stop", "data-id": agent.id, text: "Stop" })
        : el("button", { className: "btn small", type: "button", "data-action": "run", "data-id": agent.id, text: "Run" }),
      el("button", { className: "btn small", type: "button", "data-action": "edit", "data-id": agent.id, text: "Edit" }),
    ]);
    return el("article", { className: "card agent-card" + (agent.enabled ? "" : " disabled") + (agent.isRunning ? " running" : ""), "data-agent": agent.id }, [
      el("header", {}, [
        el("a", { className: "agent-name", href: "/agents/" + agent.id, text: agent.name }),
        state,
      ]),
      agent.description ? el("p", { className: "muted agent-desc", text: agent.description }) : null,
      el("div", { className: "agent-schedule" }, [
        el("code", { text: agent.schedule }),
        el("span", { className: "muted", text: agent.scheduleDescription }),
      ]),
      el("dl", { className: "agent-times" }, [
        el("dt", { text: "Next" }), el("dd", { text: agent.enabled ? when(agent.nextRunAt) : "paused", title: stamp(agent.nextRunAt) }),
        el("dt", { text: "Last" }), el("dd", { text: when(agent.lastRunAt), title: stamp(agent.lastRunAt) }),
      ]),
      actions,
    ]);
  }

  function renderAgents() {
    var list = $("agent-list");
    list.textContent = "";
    if (!agents.length) {
      list.appendChild(el("div", { className: "card empty-agents" }, [
        el("h2", { text: "No agents yet" }),
        el("p", { className: "muted", text: "An agent runs a prompt on a cron schedule with access to your tasks, notes and memory." }),
        el("button", { className: "btn primary", type: "button", "data-action": "new", text: "Create your first agent" }),
      ]));
      return;
    }
    agents.forEach(function (agent) { list.appendChild(agentCard(agent)); });
  }

  function loadAgents() {
    return Cognova.api("GET", "/api/agents").then(function (res) {
      agents = res.data;
      renderAgents();
      schedulePoll(agents.some(function (a) { return a.isRunning; }));
    });
  }

  function refreshList() {
    return Promise.all([loadAgents(), loadGlobalStats()]).catch(function (err) {
      Cognova.toast("Could not load agents", err.message, "error");
    });
  }

  function findAgent(id) {
    if (current && current.id === id) return current;
    return agents.filter(function (a) { return a.id === id; })[0];
  }

  // ------------------------------------------------------------------ actions shared by both pages

  function runAgent(id, force) {
    return Cognova.api("POST", "/api/agents/" + id + "/run" + (force ? "?force=true" : "")).then(function () {
      refresh(); // the notification stream announces the start
    }).catch(function (err) {
      if (err.status === 409) {
        Cognova.toast("Already running", err.message, "warning", { label: "Run another", run: function () { runAgent(id, true); } });
      } else {
        Cognova.toast("Could not start the agent", err.message, "error");
      }
    });
  }

  function stopAgent(id) {
    return Cognova.api("POST", "/api/agents/" + id + "/cancel").then(function (res) {
      Cognova.toast("Agent stopped", res.data.cancelledCount + " run(s) cancelled", "warning");
      refresh();
    }).catch(function (err) {
      Cognova.toast("Could not stop the agent", err.message, "error");
      refresh();
    });
  }

  function setEnabled(id, enabled) {
    return Cognova.api("PATCH", "/api/agents/" + id, { enabled: enabled }).then(refresh).catch(function (err) {
      Cognova.toast("Could not update the agent", err.message, "error");
      refresh();
    });
  }

  // ------------------------------------------------------------------ form

  var dialog = $("agent-dialog");
  var form = $("agent-form");
  var previewTimer = null;
  var previewSeq = 0;

  function clearErrors() {
    form.querySelectorAll("[data-error]").forEach(function (n) { n.textContent = ""; });
    $("agent-form-error").hidden = true;
  }

  function openForm(agent) {
    editing = agent || null;
    form.reset();
    clearErrors();
    $("agent-dialog-title").textContent = agent ? "Edit agent" : "New agent";
    $("agent-save").textContent = agent ? "Save changes" : "Create agent";
    form.elements.name.value = agent ? agent.name : "";
    form.elements.description.value = agent && agent.description ? agent.description : "";
    form.elements.schedule.value = agent ? agent.schedule : "0 9 * * *";
    form.elements.prompt.value = agent ? agent.prompt : "";
    form.elements.maxTurns.value = agent ? agent.maxTurns : 50;
    form.elements.maxBudgetUsd.value = agent && agent.maxBudgetUsd != null ? agent.maxBudgetUsd : "";
    form.elements.enabled.checked = agent ? agent.enabled : true;
    syncPreset();
    preview();
    dialog.showModal();
    form.elements.name.focus();
  }

  function syncPreset() {
    var value = form.elements.schedule.value.trim().split(/\s+/).join(" ");
    var preset = $("schedule-preset");
    preset.value = Array.prototype.some.call(preset.options, function (o) { return o.value === value; }) ? value : "";
  }

  function preview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(function () {
      var schedule = form.elements.schedule.value.trim();
      var seq = ++previewSeq;
      var desc = $("schedule-description");
      var list = $("schedule-next");
      var errorNode = form.querySelector('[data-error="schedule"]');
      if (!schedule) {
        desc.textContent = "Enter a cron expression: minute hour day month weekday";
        list.textContent = "";
        return;
      }
      Cognova.api("GET", "/api/agents/schedule/preview?count=5&schedule=" + encodeURIComponent(schedule)).then(function (res) {
        if (seq !== previewSeq) return;
        errorNode.textContent = "";
        desc.textContent = res.data.description + " (" + res.data.timezone + ")";
        list.textContent = "";
        res.data.nextRuns.forEach(function (t) { list.appendChild(el("li", { text: stamp(t) })); });
      }).catch(function (err) {
        if (seq !== previewSeq) return;
        desc.textContent = "Invalid schedule";
        list.textContent = "";
        errorNode.textContent = (err.errors && err.errors.schedule) || err.message;
      });
    }, 250);
  }

  function formBody() {
    var f = form.elements;
    var body = {
      name: f.name.value,
      description: f.description.value.trim() ? f.description.value : null,
      schedule: f.schedule.value,
      prompt: f.prompt.value,
      enabled: f.enabled.checked,
    };
    var turns = f.maxTurns.value.trim();
    if (turns !== "") body.maxTurns = Number(turns);
    var budget = f.maxBudgetUsd.value.trim();
    body.maxBudgetUsd = budget === "" ? null : Number(budget);
    return body;
  }

  function submitForm(event) {
    event.preventDefault();
    clearErrors();
    var body = formBody();
    var request = editing
      ? Cognova.api("PATCH", "/api/agents/" + editing.id, body)
      : Cognova.api("POST", "/api/agents", body);
    $("agent-save").disabled = true;
    request.then(function (res) {
      dialog.close();
      Cognova.toast(editing ? "Agent saved" : "Agent created", res.data.name, "success");
      if (editing) refresh();
      else window.location = "/agents/" + res.data.id;
    }).catch(function (err) {
      var shown = false;
      Object.keys(err.errors || {}).forEach(function (key) {
        var node = form.querySelector('[data-error="' + key + '"]');
        if (node) { node.textContent = err.errors[key]; shown = true; }
      });
      if (!shown) {
        $("agent-form-error").textContent = err.message;
        $("agent-form-error").hidden = false;
      }
    }).finally(function () { $("agent-save").disabled = false; });
  }

  if (form) {
    form.addEventListener("submit", submitForm);
    form.elements.schedule.addEventListener("input", function () { syncPreset(); preview(); });
    $("schedule-preset").addEventListener("change", function (e) {
      if (e.target.value) { form.elements.schedule.value = e.target.value; preview(); }
      else form.elements.schedule.focus();
    });
  }

  document.querySelectorAll("dialog [data-close]").forEach(function (btn) {
    btn.addEventListener("click", function () { btn.closest("dialog").close(); });
  });

  // ------------------------------------------------------------------ detail page

  function renderAgent(agent) {
    current = agent;
    document.title = agent.name + " · Cognova";
    $("agent-name").textContent = agent.name;
    $("crumb-name").textContent = agent.name;
    $("agent-description").textContent = agent.description || "";
    $("agent-enabled").checked = agent.enabled;
    $("agent-schedule").textContent = agent.schedule;
    $("agent-schedule-text").textContent = agent.scheduleDescription;
    $("agent-next").textContent = agent.enabled ? stamp(agent.nextRunAt) + " (" + when(agent.nextRunAt) + ")" : "Paused";
    $("agent-last").textContent = agent.lastRunAt ? stamp(agent.lastRunAt) + " (" + when(agent.lastRunAt) + ")" : "Never";
    $("agent-turns").textContent = agent.maxTurns;
    $("agent-budget").textContent = agent.maxBudgetUsd == null ? "No limit" : money(agent.maxBudgetUsd);
    $("agent-prompt").textContent = agent.prompt;
    var state = $("agent-state");
    state.className = "badge " + (agent.isRunning ? "status-running" : agent.lastStatus ? "status-" + agent.lastStatus : "");
    state.textContent = agent.isRunning ? "Running" : agent.lastStatus ? STATUS_LABELS[agent.lastStatus] : "Never run";
    $("agent-stop").hidden = !agent.isRunning;
  }

  function renderRuns(runs) {
    var body = $("run-rows");
    body.textContent = "";
    $("runs-count").textContent = runs.length ? runs.length + " shown" : "";
    if (!runs.length) {
      body.appendChild(el("tr", {}, [el("td", { colSpan: 7, className: "muted", text: "No runs yet. Use Run now to try the agent." })]));
      return;
    }
    runs.forEach(function (run) {
      var tokens = run.inputTokens == null ? "—" : (run.inputTokens + run.outputTokens).toLocaleString();
      body.appendChild(el("tr", { className: "run-row", "data-run": run.id, tabIndex: 0 }, [
        el("td", {}, [badge(run.status)]),
        el("td", { text: stamp(run.startedAt), title: when(run.startedAt) }),
        el("td", { text: run.status === "running" ? when(run.startedAt).replace(" ago", "") : duration(run.durationMs) }),
        el("td", { text: run.numTurns == null ? "—" : String(run.numTurns) }),
        el("td", { text: tokens }),
        el("td", { text: money(run.costUsd) }),
        el("td", { className: "run-open" }, [el("button", { className: "btn small", type: "button", "data-run-open": run.id, text: "View" })]),
      ]));
    });
  }

  function loadDetail() {
    var base = "/api/agents/" + agentId;
    return Promise.all([
      Cognova.api("GET", base),
      Cognova.api("GET", base + "/stats?period=" + period),
      Cognova.api("GET", base + "/runs?limit=100"),
    ]).then(function (res) {
      renderAgent(res[0].data);
      var s = res[1].data;
      $("stat-runs").textContent = s.totalRuns;
      $("stat-success").textContent = s.successRate + "%";
      $("stat-duration").textContent = duration(s.avgDurationMs);
      $("stat-cost").textContent = money(s.totalCostUsd);
      renderChart(s.dailyRuns);
      renderRuns(res[2].data);
      schedulePoll(res[0].data.isRunning);
    }).catch(function (err) {
      if (err.status === 404) window.location = "/agents";
      else Cognova.toast("Could not load the agent", err.message, "error");
    });
  }

  function renderMarkdown(node, text) {
    if (!text) { node.innerHTML = '<p class="muted">No output.</p>'; return; }
    if (window.marked && window.DOMPurify) {
      node.innerHTML = DOMPurify.sanitize(marked.parse(text));
    } else {
      node.textContent = text;
    }
  }

  function openRun(runId) {
    Cognova.api("GET", "/api/agents/" + agentId + "/runs/" + runId).then(function (res) {
      var run = res.data;
      $("run-dialog-title").textContent = STATUS_LABELS[run.status] + " · " + stamp(run.startedAt);
      var meta = $("run-meta");
      meta.textContent = "";
      [
        ["Status", badge(run.status)],
        ["Duration", duration(run.durationMs)],
        ["Turns", run.numTurns == null ? "—" : String(run.numTurns)],
        ["Tokens in / out", run.inputTokens == null ? "—" : run.inputTokens + " / " + run.outputTokens],
        ["Cost", money(run.costUsd)],
      ].forEach(function (pair) {
        meta.appendChild(el("div", {}, [el("span", { className: "muted", text: pair[0] }), typeof pair[1] === "string" ? el("strong", { text: pair[1] }) : pair[1]]));
      });
      var error = $("run-error");
      error.hidden = !run.error;
      error.textContent = run.error || "";
      renderMarkdown($("run-output"), run.output || (run.status === "running" ? "_Still running…_" : ""));
      var tools = $("run-tools");
      tools.textContent = "";
      (run.toolCalls || []).forEach(function (call) {
        var details = el("details", { className: "tool-call" + (call.isError ? " is-error" : "") }, [
          el("summary", {}, [el("code", { text: call.name || "tool" }), call.isError ? el("span", { className: "badge status-error", text: "error" }) : null]),
          el("h4", { text: "Input" }),
          el("pre", { text: JSON.stringify(call.input || {}, null, 2) }),
          el("h4", { text: "Result" }),
          el("pre", { text: call.result == null ? "" : String(call.result) }),
        ]);
        tools.appendChild(el("li", {}, [details]));
      });
      $("run-tools-section").hidden = !(run.toolCalls || []).length;
      var dlg = $("run-dialog");
      if (!dlg.open) dlg.showModal();
    }).catch(function (err) {
      Cognova.toast("Could not load the run", err.message, "error");
    });
  }

  // ------------------------------------------------------------------ refresh

  function refresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      if (view === "detail") loadDetail();
      else refreshList();
    }, 150);
  }

  function schedulePoll(fast) {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(refresh, fast ? 1500 : 30000);
  }

  document.addEventListener("cognova:change", function (event) {
    var change = event.detail || {};
    if (change.resource === "agent") refresh();
  });

  // ------------------------------------------------------------------ wiring

  $("agents-period").addEventListener("change", function (e) {
    savePeriod(e.target.value);
    refresh();
  });

  if (view === "list") {
    $("new-agent").addEventListener("click", function () { openForm(null); });
    $("agent-list").addEventListener("click", function (event) {
      var target = event.target.closest("[data-action]");
      if (!target) return;
      var id = target.dataset.id;
      var action = target.dataset.action;
      if (action === "new") openForm(null);
      else if (action === "run") runAgent(id, false);
      else if (action === "stop") stopAgent(id);
      else if (action === "edit") openForm(findAgent(id));
    });
    $("agent-list").addEventListener("change", function (event) {
      var target = event.target;
      if (target.dataset.action === "toggle") setEnabled(target.dataset.id, target.checked);
    });
    if (new URLSearchParams(location.search).get("action") === "new") openForm(null);
    loadPeriod().then(refreshList);
  } else {
    $("agent-run").addEventListener("click", function () { runAgent(agentId, false); });
    $("agent-stop").addEventListener("click", function () { stopAgent(agentId); });
    $("agent-edit").addEventListener("click", function () { if (current) openForm(current); });
    $("agent-enabled").addEventListener("change", function (e) { setEnabled(agentId, e.target.checked); });
    $("agent-delete").addEventListener("click", function () {
      if (!current || !window.confirm('Delete the agent "' + current.name + '" and all its runs?')) return;
      Cognova.api("DELETE", "/api/agents/" + agentId).then(function () {
        window.location = "/agents";
      }).catch(function (err) { Cognova.toast("Could not delete", err.message, "error"); });
    });
    $("run-rows").addEventListener("click", function (event) {
      var row = event.target.closest("[data-run]");
      if (row) openRun(row.dataset.run);
    });
    $("run-rows").addEventListener("keydown", function (event) {
      var row = event.target.closest("[data-run]");
      if (row && event.key === "Enter") openRun(row.dataset.run);
    });
    loadPeriod().then(loadDetail);
  }
})();
