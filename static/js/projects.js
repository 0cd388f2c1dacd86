/* Projects: colour cards with task counts, the create/edit slide-over, delete and restore. */
(function () {
  "use strict";

  var ui = Cognova.taskUi;
  var el = ui.el;
  var $ = function (id) { return document.getElementById(id); };
  var PALETTE = ["#5b5bd6", "#3b82f6", "#0ea5e9", "#14b8a6", "#22c55e", "#84cc16", "#eab308", "#f97316", "#ef4444", "#ec4899", "#a855f7", "#64748b"];

  var projects = [];
  var editing = null;
  var color = PALETTE[0];
  var panel = $("project-panel");
  var overlay = $("project-overlay");
  var form = $("project-form");

  function card(project) {
    var deleted = !!project.deletedAt;
    var count = project.taskCount;
    var node = el("article", { class: "card project-card" + (deleted ? " deleted" : ""), dataset: { id: project.id } }, [
      el("h2", {}, [el("span", { class: "color-dot" }), project.name, deleted ? el("span", { class: "badge deleted", text: "Deleted" }) : null]),
      el("p", { class: "project-desc", text: project.description || "No description." }),
      el("div", { class: "project-foot" }, [
        el("a", { class: "project-count", href: "/tasks?projectId=" + project.id, text: count + (count === 1 ? " task" : " tasks") }),
        el("span", { class: "spacer" }),
        deleted
          ? el("button", { class: "btn small", type: "button", "data-act": "restore", text: "Restore" })
          : el("button", { class: "icon-btn", type: "button", "data-act": "edit", title: "Edit", "aria-label": "Edit " + project.name, html: '<svg class="icon" width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.9" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M4 20h4L19 9l-4-4L4 16z"/><path d="m13.5 6.5 4 4"/></svg>' }),
        deleted ? null : el("button", { class: "icon-btn", type: "button", "data-act": "delete", title: "Delete", "aria-label": "Delete " + project.name, html: ui.svg("trash", 16) })
      ])
    ]);
    node.style.setProperty("--chip", project.color);
    node.querySelector(".project-desc").classList.toggle("muted", !project.description);
    return node;
  }

  async function load() {
    var path = "/api/projects" + ($("show-deleted").checked ? "?includeDeleted=true" : "");
    try {
      projects = (await Cognova.api("GET", path)).data;
    } catch (err) {
      $("project-summary").textContent = "Could not load projects: " + err.message;
      return;
    }
    var grid = $("project-grid");
    grid.textContent = "";
    projects.forEach(function (p) { grid.appendChild(card(p)); });
    var live = projects.filter(function (p) { return !p.deletedAt; });
    var tasks = live.reduce(function (sum, p) { return sum + p.taskCount; }, 0);
    $("project-summary").textContent = live.length
      ? live.length + (live.length === 1 ? " project" : " projects") + " · " + tasks + (tasks === 1 ? " task" : " tasks")
      : "No projects yet";
    $("project-empty").hidden = projects.length > 0;
  }

  function renderSwatches() {
    var box = $("swatches");
    box.textContent = "";
    var custom = PALETTE.indexOf(color.toLowerCase()) < 0;
    PALETTE.forEach(function (c) {
      var b = el("button", { type: "button", class: "swatch" + (c === color.toLowerCase() ? " active" : ""), role: "radio", "aria-checked": c === color.toLowerCase() ? "true" : "false", "aria-label": c, title: c });
      b.style.setProperty("--chip", c);
      b.addEventListener("click", function () { color = c; renderSwatches(); });
      box.appendChild(b);
    });
    var picker = el("input", { type: "color", value: color, "aria-label": "Custom colour", title: "Custom colour" });
    if (custom) picker.classList.add("active");
    picker.addEventListener("input", function () { color = picker.value; });
    picker.addEventListener("change", renderSwatches);
    box.appendChild(picker);
  }

  function showErrors(errors) {
    form.querySelectorAll(".field-error").forEach(function (n) { n.hidden = true; });
    Object.keys(errors || {}).forEach(function (key) {
      var node = form.querySelector('.field-error[data-error="' + key + '"]');
      if (node) { node.textContent = errors[key]; node.hidden = false; }
    });
  }

  function open(project) {
    editing = project;
    form.reset();
    showErrors({});
    $("project-form-error").hidden = true;
    form.elements.name.value = project ? project.name : "";
    form.elements.description.value = project && project.description ? project.description : "";
    color = project ? project.color : PALETTE[projects.length % PALETTE.length];
    renderSwatches();
    $("project-panel-title").textContent = project ? "Edit project" : "New project";
    $("project-save").textContent = project ? "Save changes" : "Create project";
    $("project-delete").hidden = !project;
    panel.hidden = false;
    overlay.hidden = false;
    requestAnimationFrame(function () { panel.classList.add("open"); overlay.classList.add("open"); });
    document.body.classList.add("panel-open");
    setTimeout(function () { if (!form.contains(document.activeElement)) form.elements.name.focus(); }, 50);
  }

  function close() {
    panel.classList.remove("open");
    overlay.classList.remove("open");
    document.body.classList.remove("panel-open");
    setTimeout(function () { panel.hidden = true; overlay.hidden = true; }, 180);
    editing = null;
  }

  async function remove(project) {
    Cognova.notifications && Cognova.notifications.expect("project", "delete", project.id);
    try {
      await Cognova.api("DELETE", "/api/projects/" + project.id);
    } catch (err) {
      Cognova.toast("Could not delete the project", err.message, "error");
      return;
    }
    if (editing && editing.id === project.id) close();
    load();
    Cognova.toast("Project deleted", project.name + " — its tasks keep their project.", "warning", {
      label: "Undo", run: function () { restore(project); }
    });
  }

  async function restore(project) {
    try {
      await Cognova.api("POST", "/api/projects/" + project.id + "/restore");
      if (!ui.live()) Cognova.toast("Project restored", project.name, "success");
      load();
    } catch (err) {
      Cognova.toast("Could not restore the project", err.message, "error");
    }
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    var payload = {
      name: form.elements.name.value,
      color: color,
      description: form.elements.description.value.trim() ? form.elements.description.value : null
    };
    if (!payload.name.trim()) { showErrors({ name: "Give the project a name" }); return; }
    var wasNew = !editing;
    $("project-save").disabled = true;
    try {
      var saved = editing
        ? await Cognova.api("PUT", "/api/projects/" + editing.id, payload)
        : await Cognova.api("POST", "/api/projects", payload);
      if (!ui.live()) Cognova.toast(wasNew ? "Project created" : "Project updated", saved.data.name, wasNew ? "success" : "info");
      close();
      load();
    } catch (err) {
      showErrors(err.errors);
      $("project-form-error").textContent = err.message;
      $("project-form-error").hidden = false;
    } finally {
      $("project-save").disabled = false;
    }
  });

  $("project-grid").addEventListener("click", function (event) {
    var button = event.target.closest("[data-act]");
    if (!button) return;
    var id = button.closest(".project-card").dataset.id;
    var project = projects.find(function (p) { return p.id === id; });
    if (!project) return;
    if (button.dataset.act === "edit") open(project);
    if (button.dataset.act === "delete") remove(project);
    if (button.dataset.act === "restore") restore(project);
  });
  $("new-project").addEventListener("click", function () { open(null); });
  $("project-delete").addEventListener("click", function () { if (editing) remove(editing); });
  $("show-deleted").addEventListener("change", load);
  panel.querySelectorAll("[data-close]").forEach(function (b) { b.addEventListener("click", close); });
  overlay.addEventListener("click", close);
  document.addEventListener("keydown", function (e) { if (e.key === "Escape" && !panel.hidden) close(); });

  var timer = null;
  document.addEventListener("cognova:change", function (event) {
    var r = (event.detail || {}).resource;
    if (r && r !== "project" && r !== "task") return;
    clearTimeout(timer);
    timer = setTimeout(load, 250);
  });

  load();
})();
