/* Memories: the table (filter, search, pages), edit and delete dialogs, the context preview. */
(function () {
  "use strict";

  var LIMIT = 20;
  var LABELS = { preference: "Preference", decision: "Decision", fact: "Fact", solution: "Solution", pattern: "Pattern", summary: "Summary" };
  var TRASH = '<svg class="icon" width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M4 7h16"/><path d="M10 11v6M14 11v6"/><path d="M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12"/><path d="M9 7V4h6v3"/></svg>';
  var state = { page: 1, total: 0, rows: [], editing: null, deleting: null };

  function $(id) { return document.getElementById(id); }

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

  function age(iso) {
    var seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
    if (seconds < 60) return "now";
    if (seconds < 3600) return Math.floor(seconds / 60) + "m";
    if (seconds < 86400) return Math.floor(seconds / 3600) + "h";
    if (seconds < 86400 * 60) return Math.floor(seconds / 86400) + "d";
    if (seconds < 86400 * 730) return Math.floor(seconds / (86400 * 30)) + "mo";
    return Math.floor(seconds / (86400 * 365)) + "y";
  }

  function query() {
    var params = new URLSearchParams({ page: state.page, limit: LIMIT });
    var text = $("memory-search").value.trim();
    if (text) params.set("query", text);
    if ($("memory-type").value) params.set("chunkType", $("memory-type").value);
    if ($("memory-expired").checked) params.set("includeExpired", "true");
    return params.toString();
  }

  function relevanceCell(score) {
    var bar = el("span", { className: "relevance-bar", role: "img", "aria-label": "Relevance " + Math.round(score * 100) + "%" }, [
      el("span", { className: "relevance-fill", style: "width:" + Math.round(score * 100) + "%" }),
    ]);
    return el("td", { className: "relevance-cell" }, [bar, el("span", { className: "relevance-num", text: score.toFixed(2) })]);
  }

  function row(memory) {
    var expired = memory.expiresAt && new Date(memory.expiresAt) <= new Date();
    var meta = [];
    if (memory.projectPath) meta.push(el("span", { className: "memory-project mono", text: memory.projectPath, title: "Project" }));
    else meta.push(el("span", { className: "muted", text: "Global" }));
    if (memory.expiresAt) meta.push(el("span", { className: "memory-expiry" + (expired ? " expired" : ""), text: (expired ? "expired " : "expires ") + new Date(memory.expiresAt).toLocaleDateString() }));
    var edit = el("button", { className: "btn small", type: "button", "data-edit": memory.id, text: "Edit" });
    var del = el("button", { className: "icon-btn small danger", type: "button", "data-delete": memory.id, "aria-label": "Delete memory", title: "Delete" });
    del.innerHTML = TRASH;
    var tr = el("tr", { "data-id": memory.id, className: expired ? "is-expired" : "" }, [
      el("td", {}, [el("span", { className: "badge memory-type type-" + memory.chunkType, text: LABELS[memory.chunkType] || memory.chunkType })]),
      el("td", { className: "memory-content-cell" }, [
        el("div", { className: "memory-content", text: memory.content }),
        el("div", { className: "memory-meta" }, meta),
      ]),
      relevanceCell(memory.relevanceScore),
      el("td", { className: "num", text: String(memory.accessCount), title: memory.lastAccessedAt ? "Last used " + new Date(memory.lastAccessedAt).toLocaleString() : "Never used" }),
      el("td", { className: "num", text: age(memory.createdAt), title: new Date(memory.createdAt).toLocaleString() }),
      el("td", { className: "num row-actions" }, [edit, del]),
    ]);
    return tr;
  }

  async function load() {
    var body = $("memory-table").tBodies[0];
    try {
      var result = await Cognova.api("GET", "/api/memory?" + query());
      state.rows = result.data;
      state.total = result.pagination.total;
      body.innerHTML = "";
      if (!result.data.length) {
        var filtered = $("memory-search").value.trim() || $("memory-type").value;
        body.appendChild(el("tr", {}, [el("td", { colspan: "6", className: "muted empty-row", text: filtered ? "No memory matches." : "No memories yet. They appear as Claude extracts them from your conversations." })]));
      }
      result.data.forEach(function (memory) { body.appendChild(row(memory)); });
      var pages = result.pagination.totalPages;
      $("memory-pager-info").textContent = state.total ? state.total + " memor" + (state.total === 1 ? "y" : "ies") + " · page " + state.page + " of " + Math.max(pages, 1) : "";
      $("memory-prev").disabled = state.page <= 1;
      $("memory-next").disabled = state.page >= pages;
    } catch (err) {
      Cognova.toast("Could not load memories", err.message, "error");
    }
  }

  async function preview() {
    var params = new URLSearchParams({ limit: $("preview-limit").value });
    var project = $("preview-project").value.trim();
    if (project) params.set("project", project);
    try {
      var response = await fetch("/memories/preview?" + params.toString(), { credentials: "same-origin" });
      var text = await response.text();
      $("memory-preview").textContent = text || "(empty: no memory would be given)";
      $("memory-preview").classList.toggle("empty", !text);
    } catch (err) {
      $("memory-preview").textContent = "Preview unavailable.";
    }
  }

  function refresh() { load(); preview(); }

  // ---------------------------------------------------------------- edit / create

  function localInput(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    var pad = function (n) { return String(n).padStart(2, "0"); };
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  function showRelevance() { $("memory-relevance-value").textContent = Number($("memory-relevance").value).toFixed(2); }

  function openForm(memory) {
    state.editing = memory;
    $("memory-dialog-title").textContent = memory ? "Edit memory" : "New memory";
    $("memory-content").value = memory ? memory.content : "";
    $("memory-kind").value = memory ? memory.chunkType : "fact";
    $("memory-relevance").value = memory ? memory.relevanceScore : 0.9;
    $("memory-project").value = memory ? memory.projectPath || "" : "";
    $("memory-project").disabled = !!memory;
    $("memory-project-field").hidden = !!memory;
    $("memory-expires").value = memory ? localInput(memory.expiresAt) : "";
    $("memory-form-error").hidden = true;
    document.querySelectorAll("#memory-form [data-error]").forEach(function (n) { n.textContent = ""; });
    showRelevance();
    $("memory-dialog").showModal();
    $("memory-content").focus();
  }

  async function save(event) {
    event.preventDefault();
    var expires = $("memory-expires").value;
    var body = {
      content: $("memory-content").value,
      chunkType: $("memory-kind").value,
      relevanceScore: Number($("memory-relevance").value),
      expiresAt: expires ? new Date(expires).toISOString() : null,
    };
    try {
      if (state.editing) {
        await Cognova.api("PATCH", "/api/memory/" + state.editing.id, body);
        Cognova.toast("Memory updated", null, "success");
      } else {
        if ($("memory-project").value.trim()) body.projectPath = $("memory-project").value.trim();
        await Cognova.api("POST", "/api/memory/store", body);
        Cognova.toast("Memory saved", null, "success");
      }
      $("memory-dialog").close();
      refresh();
    } catch (err) {
      Object.keys(err.errors || {}).forEach(function (key) {
        var slot = document.querySelector('#memory-form [data-error="' + key + '"]');
        if (slot) slot.textContent = err.errors[key];
      });
      $("memory-form-error").textContent = err.message;
      $("memory-form-error").hidden = false;
    }
  }

  // ---------------------------------------------------------------- delete

  function askDelete(memory) {
    state.deleting = memory;
    $("memory-delete-text").textContent = "“" + memory.content + "”";
    $("memory-delete-dialog").showModal();
  }

  async function confirmDelete() {
    var memory = state.deleting;
    if (!memory) return;
    try {
      await Cognova.api("DELETE", "/api/memory/" + memory.id);
      $("memory-delete-dialog").close();
      Cognova.toast("Memory deleted", memory.content.slice(0, 80), "warning");
      if (state.rows.length === 1 && state.page > 1) state.page -= 1;
      refresh();
    } catch (err) {
      Cognova.toast("Could not delete", err.message, "error");
    }
  }

  // ---------------------------------------------------------------- wiring

  var searchTimer = null;
  $("memory-search").addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () { state.page = 1; load(); }, 250);
  });
  $("memory-type").addEventListener("change", function () { state.page = 1; load(); });
  $("memory-expired").addEventListener("change", function () { state.page = 1; load(); });
  $("memory-prev").addEventListener("click", function () { if (state.page > 1) { state.page -= 1; load(); } });
  $("memory-next").addEventListener("click", function () { state.page += 1; load(); });
  $("memory-new").addEventListener("click", function () { openForm(null); });
  $("memory-relevance").addEventListener("input", showRelevance);
  $("memory-form").addEventListener("submit", save);
  $("memory-delete-confirm").addEventListener("click", confirmDelete);
  var previewTimer = null;
  $("preview-project").addEventListener("input", function () { clearTimeout(previewTimer); previewTimer = setTimeout(preview, 300); });
  $("preview-limit").addEventListener("change", preview);
  document.querySelectorAll("dialog [data-close]").forEach(function (button) {
    button.addEventListener("click", function () { button.closest("dialog").close(); });
  });
  $("memory-table").addEventListener("click", function (event) {
    var edit = event.target.closest("[data-edit]");
    var del = event.target.closest("[data-delete]");
    var find = function (id) { return state.rows.find(function (m) { return m.id === id; }); };
    if (edit) openForm(find(edit.getAttribute("data-edit")));
    if (del) askDelete(find(del.getAttribute("data-delete")));
  });
  document.addEventListener("cognova:change", function (event) {
    if (event.detail && event.detail.resource === "memory") refresh();
  });

  refresh();
})();
