/* The dashboard: today's tasks, counts, reminders, quick capture and the summary cards. */
(function () {
  "use strict";

  var ui = Cognova.taskUi;
  var el = ui.el;
  var $ = function (id) { return document.getElementById(id); };

  $("today").textContent = new Date().toLocaleDateString(undefined,
    { weekday: "long", year: "numeric", month: "long", day: "numeric" });

  function body(cardId) { return $(cardId).querySelector(".card-body"); }

  function empty(text) { return el("p", { class: "dash-empty", text: text }); }

  function fill(node, children) {
    node.textContent = "";
    children.forEach(function (child) { if (child) node.appendChild(child); });
  }

  function money(value) {
    var n = Number(value || 0);
    return "$" + (n < 10 ? n.toFixed(2) : n.toFixed(0));
  }

  function compact(n) {
    n = Number(n || 0);
    if (n >= 1e6) return (n / 1e6).toFixed(1) + "M";
    if (n >= 1e3) return (n / 1e3).toFixed(1) + "k";
    return String(n);
  }

  function taskList(tasks) {
    var list = el("ul", { class: "task-rows" });
    tasks.forEach(function (task) {
      list.appendChild(ui.row(task, {
        onOpen: function (t) { location.href = "/tasks?selected=" + t.id; },
        onToggle: async function (t, checked, row, checkbox) {
          try {
            await ui.setDone(t, checked);
            if (checked) setTimeout(load, 600);
          } catch (err) {
            checkbox.checked = !checked;
            row.classList.toggle("done", !checked);
            Cognova.toast("Could not update the task", err.message, "error");
          }
        }
      }));
    });
    return list;
  }

  function renderToday(data) {
    var parts = [];
    if (data.overdueTasks.length) {
      parts.push(el("p", { class: "dash-section-title overdue", text: "Overdue · " + data.overdueTasks.length }));
      parts.push(taskList(data.overdueTasks));
    }
    if (data.tasksDueToday.length) {
      parts.push(el("p", { class: "dash-section-title", text: "Due today · " + data.tasksDueToday.length }));
      parts.push(taskList(data.tasksDueToday));
    }
    if (!parts.length) {
      parts.push(empty(data.taskCounts.total
        ? "Nothing due today. Enjoy the calm, or plan ahead on the tasks page."
        : "No tasks yet. Capture your first one above."));
    }
    fill($("today-body"), parts);
  }

  function renderCounts(counts) {
    document.querySelectorAll("[data-count]").forEach(function (node) {
      node.textContent = counts[node.dataset.count] || 0;
    });
  }

  function renderReminders(reminders) {
    if (!reminders.length) return fill(body("card-reminders"), [empty("No reminders coming up.")]);
    var list = el("ul", { class: "dash-list" });
    reminders.forEach(function (r) {
      var late = new Date(r.remindAt) < new Date();
      var target = r.task ? el("a", { class: "grow", href: "/tasks?selected=" + r.task.id, text: r.message, title: r.task.title })
        : el("span", { class: "grow", text: r.message });
      list.appendChild(el("li", {}, [
        el("span", { class: "reminder-icon", html: ui.svg("bell", 15) }),
        target,
        el("span", { class: "when" + (late ? " late" : ""), title: new Date(r.remindAt).toLocaleString(), text: ui.relative(r.remindAt) })
      ]));
    });
    fill(body("card-reminders"), [list]);
  }

  function renderUsage(usage) {
    if (!usage || !usage.calls) return fill(body("card-usage"), [empty("No Claude usage in the last 7 days.")]);
    fill(body("card-usage"), [el("div", { class: "kv" }, [
      el("div", {}, [el("strong", { text: money(usage.costUsd) }), el("span", { text: "spent" })]),
      el("div", {}, [el("strong", { text: compact(usage.calls) }), el("span", { text: "calls" })]),
      el("div", {}, [el("strong", { text: compact(usage.inputTokens) }), el("span", { text: "input tokens" })]),
      el("div", {}, [el("strong", { text: compact(usage.outputTokens) }), el("span", { text: "output tokens" })])
    ])]);
  }

  function renderNotes(docs) {
    if (!docs.length) return fill(body("card-notes"), [empty("No notes yet. Your vault's recent notes show here.")]);
    var list = el("ul", { class: "dash-list" });
    docs.forEach(function (d) {
      list.appendChild(el("li", {}, [
        el("a", { class: "grow", href: "/documents?path=" + encodeURIComponent(d.path || ""), text: d.title || d.path, title: d.path }),
        el("span", { class: "when", text: ui.relative(d.modifiedAt || d.createdAt) })
      ]));
    });
    fill(body("card-notes"), [list]);
  }

  function renderChats(chats) {
    if (!chats.length) return fill(body("card-chats"), [empty("No conversations yet. Start a chat with Claude.")]);
    var list = el("ul", { class: "dash-list" });
    chats.forEach(function (c) {
      list.appendChild(el("li", {}, [
        el("a", { class: "grow", href: "/chat/" + c.id, text: c.title || "Untitled" }),
        el("span", { class: "when", text: ui.relative(c.startedAt || c.createdAt) })
      ]));
    });
    fill(body("card-chats"), [list]);
  }

  function renderAgents(agents) {
    if (!agents || !agents.total) return fill(body("card-agents"), [empty("No agents yet. Schedule Claude to work for you.")]);
    var parts = [el("div", { class: "kv" }, [
      el("div", {}, [el("strong", { text: String(agents.active) }), el("span", { text: "active of " + agents.total })]),
      el("div", {}, [el("strong", { text: String(agents.running) }), el("span", { text: "running now" })])
    ])];
    if (agents.recentFailures && agents.recentFailures.length) {
      var list = el("ul", { class: "dash-list" });
      agents.recentFailures.forEach(function (f) {
        list.appendChild(el("li", {}, [
          el("a", { class: "grow failure", href: "/agents/" + f.agentId, text: f.agentName + " " + (f.status === "budget_exceeded" ? "went over budget" : "failed"), title: f.error || "" }),
          el("span", { class: "when", text: ui.relative(f.startedAt) })
        ]));
      });
      parts.push(el("p", { class: "dash-section-title overdue", text: "Recent failures" }), list);
    }
    fill(body("card-agents"), parts);
  }

  var loading = null;
  async function load() {
    var seq = loading = {};
    var data;
    try {
      data = (await Cognova.api("GET", "/api/dashboard?tzOffset=" + new Date().getTimezoneOffset())).data;
    } catch (err) {
      if (seq !== loading) return;
      fill($("today-body"), [empty("The dashboard could not be loaded (" + err.message + ").")]);
      return;
    }
    if (seq !== loading) return;
    renderToday(data);
    renderCounts(data.taskCounts);
    renderReminders(data.upcomingReminders || []);
    renderUsage(data.usage);
    renderNotes(data.recentDocuments || []);
    renderChats(data.recentConversations || []);
    renderAgents(data.agents);
  }

  $("quick-capture").addEventListener("submit", async function (event) {
    event.preventDefault();
    var input = $("capture-title");
    var title = input.value.trim();
    if (!title) { input.focus(); return; }
    var button = event.target.querySelector("button");
    button.disabled = true;
    try {
      var created = (await Cognova.api("POST", "/api/tasks", { title: title })).data;
      input.value = "";
      if (!ui.live()) Cognova.toast("Task captured", created.title, "success");
      load();
    } catch (err) {
      Cognova.toast("Could not add the task", Object.values(err.errors || {}).join(", ") || err.message, "error");
    } finally {
      button.disabled = false;
      input.focus();
    }
  });

  var timer = null;
  document.addEventListener("cognova:change", function () {
    clearTimeout(timer);
    timer = setTimeout(load, 300);
  });

  load();
})();
