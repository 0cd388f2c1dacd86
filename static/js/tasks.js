/* Tasks: shared row rendering (also used by the dashboard) and the tasks page itself. */
(function () {
  "use strict";

  var STATUS_LABELS = { todo: "To do", in_progress: "In progress", blocked: "Blocked", done: "Done" };
  var PRIORITY_LABELS = { 1: "Low", 2: "Medium", 3: "High" };
  var PATHS = {
    trash: '<path d="M4 7h16M10 11v6M14 11v6M6 7l1 12.5A1.5 1.5 0 0 0 8.5 21h7a1.5 1.5 0 0 0 1.5-1.5L18 7M9 7V4.5A1.5 1.5 0 0 1 10.5 3h3A1.5 1.5 0 0 1 15 4.5V7"/>',
    calendar: '<rect x="3.5" y="5" width="17" height="15.5" rx="2"/><path d="M3.5 10h17M8 3v4M16 3v4"/>',
    flag: '<path d="M5 21V4M5 4h11l-2 4 2 4H5"/>',
    bell: '<path d="M6 8a6 6 0 1 1 12 0c0 7 3 8 3 8H3s3-1 3-8"/><path d="M10.3 20a1.9 1.9 0 0 0 3.4 0"/>',
    clock: '<circle cx="12" cy="12" r="8.5"/><path d="M12 7.5V12l3 2"/>',
    x: '<path d="M6 6l12 12M18 6 6 18"/>',
    check: '<path d="m5 12.5 4.5 4.5L19 7.5"/>'
  };

  function svg(name, size) {
    size = size || 14;
    return '<svg class="icon" width="' + size + '" height="' + size + '" viewBox="0 0 24 24" fill="none" stroke="currentColor" ' +
      'stroke-width="1.9" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">' + (PATHS[name] || "") + "</svg>";
  }

  /** Build an element: el("span", {class: "x", text: "…"}, [children]). */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "html") node.innerHTML = value;
      else if (key === "class") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function startOfDay(date) {
    var d = new Date(date);
    d.setHours(0, 0, 0, 0);
    return d;
  }

  var DAY = 86400000;

  function isLocalMidnight(date) {
    return date.getHours() === 0 && date.getMinutes() === 0;
  }

  function shortDate(date) {
    var sameYear = date.getFullYear() === new Date().getFullYear();
    return date.toLocaleDateString(undefined, sameYear
      ? { weekday: "short", day: "numeric", month: "short" }
      : { day: "numeric", month: "short", year: "numeric" });
  }

  function timeOf(date) {
    return date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  }

  /** "Today", "Tomorrow 14:00", "Overdue · Mon 3 Nov"… and a class for its colour. */
  function dueInfo(iso, done) {
    if (!iso) return null;
    var due = new Date(iso);
    var days = Math.round((startOfDay(due) - startOfDay(new Date())) / DAY);
    var text = days === 0 ? "Today" : days === 1 ? "Tomorrow" : days === -1 ? "Yesterday" : shortDate(due);
    if (!isLocalMidnight(due)) text += " " + timeOf(due);
    var cls = "due";
    if (!done && days < 0) cls += " overdue";
    else if (!done && days === 0) cls += " today";
    return { text: text, cls: cls, title: due.toLocaleString() };
  }

  function relative(iso) {
    var diff = new Date(iso) - Date.now();
    var abs = Math.abs(diff);
    var units = [["day", DAY], ["hour", 3600000], ["minute", 60000]];
    var fmt = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }) : null;
    for (var i = 0; i < units.length; i++) {
      if (abs >= units[i][1] || i === units.length - 1) {
        var n = Math.round(diff / units[i][1]);
        if (!fmt) return n + " " + units[i][0] + (Math.abs(n) === 1 ? "" : "s");
        return fmt.format(n, units[i][0]);
      }
    }
    return "";
  }

  function projectChip(project) {
    if (!project) return null;
    var chip = el("span", { class: "project-chip", title: "Project: " + project.name }, [
      el("span", { class: "dot" }), project.name
    ]);
    chip.style.setProperty("--chip", project.color);
    return chip;
  }

  /** One task as a list row. opts.onOpen(task), opts.onToggle(task, checked, row), opts.onDelete(task). */
  function taskRow(task, opts) {
    opts = opts || {};
    var done = task.status === "done";
    var due = dueInfo(task.dueDate, done);
    var checkbox = el("input", { type: "checkbox", "aria-label": "Complete “" + task.title + "”" });
    checkbox.checked = done;
    var meta = el("span", { class: "task-meta" });
    if (task.status === "in_progress" || task.status === "blocked") {
      meta.appendChild(el("span", { class: "badge status-" + task.status, text: STATUS_LABELS[task.status] }));
    }
    if (task.priority !== 2) {
      meta.appendChild(el("span", { class: "priority p" + task.priority, html: svg("flag", 12) + PRIORITY_LABELS[task.priority], title: PRIORITY_LABELS[task.priority] + " priority" }));
    }
    if (task.project) meta.appendChild(projectChip(task.project));
    if (due) meta.appendChild(el("span", { class: due.cls, title: due.title, html: svg("calendar", 12) }, [due.text]));
    (task.tags || []).forEach(function (tag) {
      meta.appendChild(el("span", { class: "tag", dataset: { tag: tag }, text: "#" + tag, title: opts.onTag ? "Filter by " + tag : null }));
    });
    var link = el("a", { class: "task-title", href: "/tasks?selected=" + task.id, text: task.title });
    var row = el("li", {
      class: "task-row" + (done ? " done" : "") + (due && due.cls.indexOf("overdue") >= 0 ? " is-overdue" : ""),
      dataset: { id: task.id }
    }, [
      el("label", { class: "task-check" }, [checkbox, el("span", { class: "checkmark", html: svg("check", 13) })]),
      el("div", { class: "task-main" }, [link, meta.childNodes.length ? meta : null]),
      opts.onDelete ? el("div", { class: "task-actions" }, [
        el("button", { class: "icon-btn", type: "button", "data-act": "delete", title: "Delete", "aria-label": "Delete “" + task.title + "”", html: svg("trash", 16) })
      ]) : null
    ]);
    checkbox.addEventListener("change", function () {
      row.classList.toggle("done", checkbox.checked);
      if (opts.onToggle) opts.onToggle(task, checkbox.checked, row, checkbox);
    });
    if (opts.onOpen) {
      link.addEventListener("click", function (event) {
        if (event.metaKey || event.ctrlKey || event.shiftKey) return;
        event.preventDefault();
        opts.onOpen(task);
      });
    }
    row.addEventListener("click", function (event) {
      var tag = event.target.closest(".tag");
      if (tag && opts.onTag) { opts.onTag(tag.dataset.tag); return; }
      if (event.target.closest("[data-act=delete]") && opts.onDelete) { opts.onDelete(task, row); return; }
      if (opts.onOpen && event.target.classList.contains("task-main")) opts.onOpen(task);
    });
    return row;
  }

  /** Tick or untick a task; the stream's echo of this edit is not toasted (the row shows it). */
  function setDone(task, checked) {
    if (Cognova.notifications) Cognova.notifications.expect("task", "edit", task.id);
    return Cognova.api("PUT", "/api/tasks/" + task.id, { status: checked ? "done" : "todo" });
  }

  function live() {
    return !!(Cognova.notifications && Cognova.notifications.state() === "live");
  }

  Cognova.taskUi = {
    STATUS_LABELS: STATUS_LABELS, PRIORITY_LABELS: PRIORITY_LABELS, svg: svg, el: el,
    dueInfo: dueInfo, relative: relative, row: taskRow, setDone: setDone, projectChip: projectChip, live: live
  };

  var root = document.getElementById("tasks-page");
  if (!root) return;

  // ---------------------------------------------------------------- the tasks page

  var PAGE_SIZE = 50;
  var filters = { status: [], projectId: "", tags: [], search: "", sort: "createdAt" };
  var pagesLoaded = 1;
  var total = 0;
  var projects = [];
  var knownTags = [];
  var editing = null;
  var formTags = [];

  var $ = function (id) { return document.getElementById(id); };
  var rows = $("task-rows");
  var panel = $("task-panel");
  var overlay = $("task-overlay");
  var form = $("task-form");

  function query(page, limit) {
    var params = new URLSearchParams();
    if (filters.status.length) params.set("status", filters.status.join(","));
    if (filters.projectId) params.set("projectId", filters.projectId);
    filters.tags.forEach(function (tag) { params.append("tag", tag); });
    if (filters.search) params.set("search", filters.search);
    params.set("sort", filters.sort);
    params.set("page", page);
    params.set("limit", limit);
    return params.toString();
  }

  function filtered() {
    return filters.status.length || filters.projectId || filters.tags.length || filters.search;
  }

  var loadSeq = 0;
  async function loadTasks(opts) {
    opts = opts || {};
    var seq = ++loadSeq;
    var limit = opts.append ? PAGE_SIZE : PAGE_SIZE * pagesLoaded;
    var page = opts.append ? pagesLoaded : 1;
    var body;
    try {
      body = await Cognova.api("GET", "/api/tasks?" + query(page, limit));
    } catch (err) {
      if (seq !== loadSeq) return;
      $("task-summary").textContent = "Could not load tasks: " + err.message;
      return;
    }
    if (seq !== loadSeq) return;
    total = body.pagination.total;
    if (!opts.append) rows.textContent = "";
    body.data.forEach(function (task) { rows.appendChild(rowFor(task)); });
    renderSummary();
  }

  function rowFor(task) {
    return taskRow(task, {
      onOpen: function (t) { openTask(t.id); },
      onToggle: toggleDone,
      onDelete: deleteTask,
      onTag: function (tag) { if (filters.tags.indexOf(tag) < 0) { filters.tags.push(tag); filtersChanged(); } }
    });
  }

  function renderSummary() {
    var shown = rows.children.length;
    $("task-summary").textContent = total === 0 ? (filtered() ? "Nothing matches these filters" : "Nothing to do yet")
      : total + (total === 1 ? " task" : " tasks") + (filtered() ? " match" + (total === 1 ? "es" : "") + " these filters" : "");
    $("task-empty").hidden = shown > 0;
    $("task-empty-title").textContent = filtered() ? "No matching tasks" : "No tasks yet";
    $("task-empty-text").innerHTML = filtered()
      ? 'Try other filters or <a href="#" id="clear-filters">clear them all</a>.'
      : "Create your first task with <kbd>N</kbd>, or capture one from the dashboard.";
    var clear = $("clear-filters");
    if (clear) clear.addEventListener("click", function (e) { e.preventDefault(); clearFilters(); });
    $("task-more").hidden = shown >= total;
  }

  async function toggleDone(task, checked, row, checkbox) {
    try {
      var body = await setDone(task, checked);
      row.replaceWith(rowFor(body.data));
    } catch (err) {
      checkbox.checked = !checked;
      row.classList.toggle("done", !checked);
      Cognova.toast("Could not update the task", err.message, "error");
    }
  }

  async function deleteTask(task, row) {
    Cognova.notifications && Cognova.notifications.expect("task", "delete", task.id);
    try {
      await Cognova.api("DELETE", "/api/tasks/" + task.id);
    } catch (err) {
      Cognova.toast("Could not delete the task", err.message, "error");
      return;
    }
    if (row) row.remove();
    if (editing && editing.id === task.id) closePanel();
    total = Math.max(0, total - 1);
    renderSummary();
    Cognova.toast("Task deleted", task.title, "warning", {
      label: "Undo",
      run: function () { restoreTask(task); }
    });
  }

  async function restoreTask(task) {
    try {
      await Cognova.api("POST", "/api/tasks/" + task.id + "/restore");
      if (!live()) Cognova.toast("Task restored", task.title, "success");
      loadTasks();
    } catch (err) {
      Cognova.toast("Could not restore the task", err.message, "error");
    }
  }

  // ---------------------------------------------------------------- filters

  function renderFilters() {
    document.querySelectorAll("#status-filter .chip").forEach(function (chip) {
      var s = chip.dataset.status;
      var on = s ? filters.status.indexOf(s) >= 0 : filters.status.length === 0;
      chip.classList.toggle("active", on);
      chip.setAttribute("aria-pressed", on ? "true" : "false");
    });
    $("project-filter").value = filters.projectId;
    $("task-sort").value = filters.sort;
    $("task-search").value = filters.search;
    var box = $("active-tags");
    box.textContent = "";
    filters.tags.forEach(function (tag) {
      var chip = el("button", { type: "button", class: "chip active removable", title: "Remove tag filter", html: "#" }, []);
      chip.appendChild(document.createTextNode(tag));
      chip.insertAdjacentHTML("beforeend", svg("x", 12));
      chip.addEventListener("click", function () {
        filters.tags = filters.tags.filter(function (t) { return t !== tag; });
        filtersChanged();
      });
      box.appendChild(chip);
    });
    box.hidden = filters.tags.length === 0;
  }

  function renderProjectOptions() {
    var select = $("project-filter");
    var keep = select.value;
    select.querySelectorAll("option[data-project]").forEach(function (o) { o.remove(); });
    var formSelect = $("task-project");
    var formKeep = formSelect.value;
    formSelect.querySelectorAll("option[data-project]").forEach(function (o) { o.remove(); });
    projects.forEach(function (p) {
      select.appendChild(el("option", { value: p.id, "data-project": true, text: p.name }));
      formSelect.appendChild(el("option", { value: p.id, "data-project": true, text: p.name }));
    });
    select.value = keep || filters.projectId;
    formSelect.value = formKeep;
  }

  function renderTagOptions() {
    var select = $("tag-filter");
    select.querySelectorAll("option[data-tag]").forEach(function (o) { o.remove(); });
    var list = $("tag-suggestions");
    list.textContent = "";
    knownTags.forEach(function (tag) {
      select.appendChild(el("option", { value: tag, "data-tag": true, text: "#" + tag }));
      list.appendChild(el("option", { value: tag }));
    });
    select.value = "";
  }

  var saveTimer = null;
  function rememberFilters() {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(function () {
      var projectId = /^[0-9a-f-]{36}$/i.test(filters.projectId) ? filters.projectId : null;
      // Settings may not exist on older servers: filters then simply are not remembered.
      Cognova.api("PUT", "/api/settings", { ui: { tasks: { status: filters.status, projectId: projectId } } })
        .catch(function () {});
    }, 400);
  }

  function filtersChanged(opts) {
    pagesLoaded = 1;
    renderFilters();
    loadTasks();
    if (!opts || opts.remember !== false) rememberFilters();
  }

  function clearFilters() {
    filters.status = [];
    filters.projectId = "";
    filters.tags = [];
    filters.search = "";
    filtersChanged();
  }

  $("status-filter").addEventListener("click", function (event) {
    var chip = event.target.closest(".chip");
    if (!chip) return;
    var s = chip.dataset.status;
    if (!s) filters.status = [];
    else if (filters.status.indexOf(s) >= 0) filters.status = filters.status.filter(function (x) { return x !== s; });
    else filters.status = filters.status.concat([s]);
    filtersChanged();
  });
  $("project-filter").addEventListener("change", function (e) { filters.projectId = e.target.value; filtersChanged(); });
  $("task-sort").addEventListener("change", function (e) { filters.sort = e.target.value; filtersChanged({ remember: false }); });
  $("tag-filter").addEventListener("change", function (e) {
    var tag = e.target.value;
    if (tag && filters.tags.indexOf(tag) < 0) filters.tags.push(tag);
    filtersChanged({ remember: false });
  });
  var searchTimer = null;
  $("task-search").addEventListener("input", function (e) {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () {
      filters.search = e.target.value.trim();
      pagesLoaded = 1;
      loadTasks();
    }, 250);
  });
  $("load-more").addEventListener("click", function () { pagesLoaded += 1; loadTasks({ append: true }); });

  // ---------------------------------------------------------------- the slide-over editor

  function setUrl(params) {
    var url = new URL(location.href);
    url.searchParams.delete("selected");
    url.searchParams.delete("action");
    Object.keys(params).forEach(function (k) { url.searchParams.set(k, params[k]); });
    history.replaceState(null, "", url.pathname + url.search);
  }

  function showErrors(errors) {
    form.querySelectorAll(".field-error[data-error]").forEach(function (node) { node.hidden = true; });
    Object.keys(errors || {}).forEach(function (key) {
      var node = form.querySelector('.field-error[data-error="' + key.split(".")[0] + '"]');
      if (node) { node.textContent = errors[key]; node.hidden = false; }
    });
  }

  function renderTagChips() {
    var box = $("tag-input");
    box.querySelectorAll(".chip").forEach(function (c) { c.remove(); });
    var entry = $("tag-entry");
    formTags.forEach(function (tag, i) {
      var chip = el("span", { class: "chip active" }, ["#" + tag]);
      var remove = el("button", { type: "button", class: "chip-x", "aria-label": "Remove tag " + tag, html: svg("x", 11) });
      remove.addEventListener("click", function () { formTags.splice(i, 1); renderTagChips(); });
      chip.appendChild(remove);
      box.insertBefore(chip, entry);
    });
  }

  function addTagFromEntry() {
    var entry = $("tag-entry");
    entry.value.split(",").forEach(function (raw) {
      var tag = raw.trim().replace(/^#/, "");
      if (tag && formTags.indexOf(tag) < 0) formTags.push(tag);
    });
    entry.value = "";
    renderTagChips();
  }

  $("tag-entry").addEventListener("keydown", function (e) {
    if (e.key === "Enter" || e.key === ",") { e.preventDefault(); addTagFromEntry(); }
    else if (e.key === "Backspace" && !e.target.value && formTags.length) { formTags.pop(); renderTagChips(); }
  });
  $("tag-entry").addEventListener("change", addTagFromEntry);

  function pad(n) { return String(n).padStart(2, "0"); }
  function localDay(d) { return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()); }
  function localTime(d) { return pad(d.getHours()) + ":" + pad(d.getMinutes()); }

  function dueFromForm() {
    var day = form.elements.dueDay.value;
    if (!day) return null;
    var parts = day.split("-").map(Number);
    var time = (form.elements.dueTime.value || "00:00").split(":").map(Number);
    return new Date(parts[0], parts[1] - 1, parts[2], time[0], time[1]).toISOString();
  }

  function setTab(name) {
    panel.querySelectorAll(".tab").forEach(function (t) { t.classList.toggle("active", t.dataset.tab === name); });
    var textarea = form.elements.description;
    var preview = $("description-preview");
    if (name === "preview") {
      var html = window.marked ? marked.parse(textarea.value || "") : "";
      preview.innerHTML = window.DOMPurify ? DOMPurify.sanitize(html) : "";
      if (!textarea.value.trim()) preview.innerHTML = '<p class="muted">Nothing to preview.</p>';
      preview.style.minHeight = textarea.offsetHeight + "px";
    }
    textarea.hidden = name === "preview";
    preview.hidden = name !== "preview";
  }
  panel.querySelectorAll(".tab").forEach(function (t) { t.addEventListener("click", function () { setTab(t.dataset.tab); }); });

  function fillForm(task) {
    form.reset();
    showErrors({});
    $("task-form-error").hidden = true;
    setTab("write");
    form.elements.title.value = task ? task.title : "";
    form.elements.description.value = task && task.description ? task.description : "";
    form.elements.status.value = task ? task.status : "todo";
    form.querySelector('input[name=priority][value="' + (task ? task.priority : 2) + '"]').checked = true;
    var projectId = task ? task.projectId || "" : (/^[0-9a-f-]{36}$/i.test(filters.projectId) ? filters.projectId : "");
    if (projectId && !projects.some(function (p) { return p.id === projectId; }) && task && task.project) {
      // A soft-deleted project still shows on its tasks.
      $("task-project").appendChild(el("option", { value: projectId, "data-project": true, text: task.project.name + " (deleted)" }));
    }
    form.elements.projectId.value = projectId;
    if (task && task.dueDate) {
      var due = new Date(task.dueDate);
      form.elements.dueDay.value = localDay(due);
      form.elements.dueTime.value = isLocalMidnight(due) ? "" : localTime(due);
    }
    formTags = task ? (task.tags || []).slice() : [];
    $("tag-entry").value = "";
    renderTagChips();
    $("task-panel-title").textContent = task ? "Edit task" : "New task";
    $("task-save").textContent = task ? "Save changes" : "Create task";
    $("task-delete").hidden = !task;
    $("task-reminders").hidden = !task;
    var meta = [];
    if (task) {
      meta.push("Created " + relative(task.createdAt) + (task.creator ? " by " + task.creator.name : ""));
      if (task.modifiedAt) meta.push("updated " + relative(task.modifiedAt));
      if (task.completedAt) meta.push("completed " + relative(task.completedAt));
    }
    $("task-meta").textContent = meta.join(" · ");
  }

  var lastFocus = null;
  function showPanel() {
    lastFocus = document.activeElement;
    panel.hidden = false;
    overlay.hidden = false;
    requestAnimationFrame(function () {
      panel.classList.add("open");
      overlay.classList.add("open");
    });
    document.body.classList.add("panel-open");
    // focus the title once the panel is in, unless focus is already in the panel (a field the
    // person clicked or started typing in meanwhile keeps it)
    setTimeout(function () { if (!panel.contains(document.activeElement)) form.elements.title.focus(); }, 50);
  }

  function openNew() {
    editing = null;
    fillForm(null);
    setUrl({ action: "new" });
    showPanel();
  }

  async function openTask(id) {
    var body;
    try {
      body = await Cognova.api("GET", "/api/tasks/" + id);
    } catch (err) {
      Cognova.toast("Task not found", err.status === 404 ? "It may have been deleted." : err.message, "error");
      setUrl({});
      return;
    }
    editing = body.data;
    fillForm(editing);
    setUrl({ selected: id });
    showPanel();
    loadReminders();
  }

  function closePanel() {
    panel.classList.remove("open");
    overlay.classList.remove("open");
    document.body.classList.remove("panel-open");
    setTimeout(function () { panel.hidden = true; overlay.hidden = true; }, 180);
    editing = null;
    setUrl({});
    if (lastFocus && lastFocus.focus) lastFocus.focus();
  }

  panel.querySelectorAll("[data-close]").forEach(function (b) { b.addEventListener("click", closePanel); });
  overlay.addEventListener("click", closePanel);
  $("new-task").addEventListener("click", openNew);
  $("task-delete").addEventListener("click", function () {
    if (!editing) return;
    var task = editing;
    deleteTask(task, rows.querySelector('[data-id="' + task.id + '"]'));
  });

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    if ($("tag-entry").value.trim()) addTagFromEntry();
    var payload = {
      title: form.elements.title.value,
      description: form.elements.description.value.trim() ? form.elements.description.value : null,
      status: form.elements.status.value,
      priority: Number(form.querySelector("input[name=priority]:checked").value),
      projectId: form.elements.projectId.value || null,
      dueDate: dueFromForm(),
      tags: formTags
    };
    if (!payload.title.trim()) { showErrors({ title: "Give the task a title" }); form.elements.title.focus(); return; }
    var save = $("task-save");
    save.disabled = true;
    var wasNew = !editing;
    try {
      var body = editing
        ? await Cognova.api("PUT", "/api/tasks/" + editing.id, payload)
        : await Cognova.api("POST", "/api/tasks", payload);
      if (!live()) Cognova.toast(wasNew ? "Task created" : "Task updated", body.data.title, wasNew ? "success" : "info");
      closePanel();
      loadTasks();
      refreshTags();
    } catch (err) {
      showErrors(err.errors);
      var error = $("task-form-error");
      error.textContent = err.message;
      error.hidden = false;
    } finally {
      save.disabled = false;
    }
  });

  // ---------------------------------------------------------------- reminders of the open task

  var SNOOZES = [["10 min", 10], ["1 hour", 60], ["Tomorrow", 1440]];

  async function loadReminders() {
    if (!editing) return;
    var id = editing.id;
    var list = $("reminder-rows");
    var body;
    try {
      body = await Cognova.api("GET", "/api/tasks/" + id + "/reminders");
    } catch (err) {
      list.innerHTML = '<li class="muted">Reminders are unavailable.</li>';
      return;
    }
    if (!editing || editing.id !== id) return;
    list.textContent = "";
    if (!body.data.length) list.appendChild(el("li", { class: "muted reminder-empty", text: "No reminders for this task." }));
    body.data.forEach(function (reminder) { list.appendChild(reminderRow(reminder)); });
    var when = new Date(Date.now() + 3600000);
    when.setMinutes(0, 0, 0);
    if (!$("reminder-when").value) $("reminder-when").value = localDay(when) + "T" + localTime(when);
  }

  function reminderRow(reminder) {
    var sent = reminder.status === "sent";
    var snooze = el("select", { class: "snooze", "aria-label": "Snooze" }, [el("option", { value: "", text: "Snooze…" })]);
    SNOOZES.forEach(function (s) { snooze.appendChild(el("option", { value: s[1], text: s[0] })); });
    snooze.addEventListener("change", async function () {
      if (!snooze.value) return;
      try {
        await Cognova.api("POST", "/api/reminders/" + reminder.id + "/snooze", { minutes: Number(snooze.value) });
        loadReminders();
      } catch (err) { Cognova.toast("Could not snooze", err.message, "error"); }
    });
    var remove = el("button", { type: "button", class: "icon-btn", title: "Delete reminder", "aria-label": "Delete reminder", html: svg("trash", 15) });
    remove.addEventListener("click", async function () {
      try {
        await Cognova.api("DELETE", "/api/reminders/" + reminder.id);
        loadReminders();
      } catch (err) { Cognova.toast("Could not delete the reminder", err.message, "error"); }
    });
    var at = new Date(reminder.remindAt);
    return el("li", { class: "reminder-row" + (sent ? " sent" : "") }, [
      el("span", { class: "reminder-icon", html: svg(sent ? "check" : "bell", 15) }),
      el("div", { class: "reminder-text" }, [
        el("span", { class: "reminder-message", text: reminder.message }),
        el("span", { class: "muted", title: at.toLocaleString(), text: at.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) + " · " + relative(reminder.remindAt) })
      ]),
      el("span", { class: "badge " + (sent ? "status-done" : "status-pending"), text: sent ? "Sent" : "Pending" }),
      snooze,
      remove
    ]);
  }

  $("reminder-add").addEventListener("click", async function () {
    if (!editing) return;
    var message = $("reminder-message").value.trim() || editing.title;
    var when = $("reminder-when").value;
    var error = $("reminder-error");
    error.hidden = true;
    if (!when) { error.textContent = "Pick a date and time"; error.hidden = false; return; }
    try {
      await Cognova.api("POST", "/api/reminders", { taskId: editing.id, message: message, remindAt: new Date(when).toISOString() });
      $("reminder-message").value = "";
      loadReminders();
    } catch (err) {
      error.textContent = Object.values(err.errors || {}).join(", ") || err.message;
      error.hidden = false;
    }
  });
  $("reminder-message").addEventListener("keydown", function (e) {
    if (e.key === "Enter") { e.preventDefault(); $("reminder-add").click(); }
  });

  // ---------------------------------------------------------------- live refresh, keys, start

  async function refreshProjects() {
    try {
      projects = (await Cognova.api("GET", "/api/projects")).data;
    } catch (err) { projects = []; }
    renderProjectOptions();
  }

  async function refreshTags() {
    try {
      knownTags = (await Cognova.api("GET", "/api/tasks/tags")).data;
    } catch (err) { knownTags = []; }
    renderTagOptions();
  }

  var refreshTimer = null;
  document.addEventListener("cognova:change", function (event) {
    var change = event.detail || {};
    var all = change.action === "reconnect";
    if (all || change.resource === "project") refreshProjects();
    if (all || change.resource === "reminder") loadReminders();
    if (all || change.resource === "task" || change.resource === "project") {
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(function () { loadTasks(); if (change.resource === "task") refreshTags(); }, 250);
    }
  });

  document.addEventListener("keydown", function (event) {
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName) || document.activeElement.isContentEditable;
    if (event.key === "Escape" && !panel.hidden) { closePanel(); return; }
    if (typing || event.metaKey || event.ctrlKey || event.altKey) return;
    if (event.key === "n" && panel.hidden) { event.preventDefault(); openNew(); }
    if (event.key === "/") { event.preventDefault(); $("task-search").focus(); }
  });

  async function start() {
    var params = new URLSearchParams(location.search);
    var settings = null;
    try { settings = (await Cognova.api("GET", "/api/settings")).data; } catch (err) { settings = null; }
    var remembered = settings && settings.ui && settings.ui.tasks;
    if (params.has("status")) filters.status = params.get("status").split(",").filter(Boolean);
    else if (remembered && Array.isArray(remembered.status)) filters.status = remembered.status.slice();
    if (params.has("projectId")) filters.projectId = params.get("projectId");
    else if (remembered && remembered.projectId) filters.projectId = remembered.projectId;
    filters.tags = params.getAll("tag");
    filters.search = params.get("search") || "";
    await Promise.all([refreshProjects(), refreshTags()]);
    renderFilters();
    await loadTasks();
    if (params.get("action") === "new") openNew();
    else if (params.get("selected")) openTask(params.get("selected"));
  }

  start();
})();
