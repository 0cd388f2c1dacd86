/* The documents workspace: file tree (create, rename, drag-and-drop move, delete), the editor
   with preview and autosave, and the metadata/sharing panel. Data comes from /api/fs and
   /api/documents; every save carries the hash last seen, so a file changed elsewhere is never
   overwritten silently. */
(function () {
  "use strict";
  var root = document.getElementById("docs");
  if (!root) return;
  var api = Cognova.api;
  var $ = function (id) { return document.getElementById(id); };

  var state = {
    doc: null,        // Document object of the open file
    hash: null,       // content hash the editor's text is based on
    dirty: false,
    saving: null,     // promise of the save in flight
    timer: null,
    expanded: JSON.parse(localStorage.getItem("cognova.docs.expanded") || "{}"),
    newKind: null,
  };
  var AUTOSAVE_MS = 800;

  // ------------------------------------------------------------------ tree

  function loadTree() {
    return api("GET", "/api/fs/list?recursive=true").then(function (res) {
      var tree = $("docs-tree");
      tree.textContent = "";
      if (!res.data.length) {
        var p = document.createElement("p");
        p.className = "muted docs-loading";
        p.textContent = "The vault is empty.";
        tree.appendChild(p);
      }
      tree.appendChild(renderEntries(res.data, 0));
      markActive();
    }).catch(function (err) {
      Cognova.toast("Could not list the vault", err.message, "error");
    });
  }

  function renderEntries(entries, depth) {
    var ul = document.createElement("ul");
    ul.className = "tree-list";
    entries.forEach(function (entry) {
      var li = document.createElement("li");
      li.setAttribute("role", "treeitem");
      var row = document.createElement("div");
      row.className = "tree-row " + entry.type;
      row.style.paddingLeft = (8 + depth * 14) + "px";
      row.dataset.path = entry.path;
      row.dataset.type = entry.type;
      row.draggable = true;
      row.title = entry.path;
      var label = document.createElement("span");
      label.className = "tree-label";
      label.textContent = (entry.type === "directory" ? (state.expanded[entry.path] ? "▾ " : "▸ ") : "") + entry.name;
      row.appendChild(label);
      var actions = document.createElement("span");
      actions.className = "tree-actions";
      [["rename", "✎", "Rename"], ["delete", "✕", "Delete"]].forEach(function (a) {
        var b = document.createElement("button");
        b.type = "button";
        b.className = "tree-act";
        b.dataset.treeAction = a[0];
        b.textContent = a[1];
        b.title = a[2] + " " + entry.name;
        b.setAttribute("aria-label", a[2] + " " + entry.name);
        actions.appendChild(b);
      });
      row.appendChild(actions);
      li.appendChild(row);
      if (entry.type === "directory") {
        row.dataset.dropPath = entry.path;
        var children = renderEntries(entry.children || [], depth + 1);
        children.hidden = !state.expanded[entry.path];
        li.appendChild(children);
      }
      ul.appendChild(li);
    });
    return ul;
  }

  function markActive() {
    document.querySelectorAll(".tree-row.active").forEach(function (el) { el.classList.remove("active"); });
    if (!state.doc) return;
    var row = document.querySelector('.tree-row[data-path="' + CSS.escape(state.doc.path) + '"]');
    if (row) row.classList.add("active");
  }

  function folderOf(path) {
    var i = path.lastIndexOf("/");
    return i === -1 ? "" : path.slice(0, i);
  }

  $("docs-tree").addEventListener("click", function (event) {
    var act = event.target.closest("[data-tree-action]");
    var row = event.target.closest(".tree-row");
    if (!row) return;
    var path = row.dataset.path;
    if (act) {
      event.stopPropagation();
      if (act.dataset.treeAction === "rename") renamePath(path);
      else deletePath(path, row.dataset.type);
      return;
    }
    if (row.dataset.type === "directory") {
      state.expanded[path] = !state.expanded[path];
      localStorage.setItem("cognova.docs.expanded", JSON.stringify(state.expanded));
      row.nextElementSibling.hidden = !state.expanded[path];
      row.querySelector(".tree-label").textContent = (state.expanded[path] ? "▾ " : "▸ ") + path.split("/").pop();
    } else {
      openPath(path);
    }
  });

  // drag and drop: files and folders onto folders (or the empty tree area = the root)
  var dragged = null;
  $("docs-tree").addEventListener("dragstart", function (event) {
    var row = event.target.closest(".tree-row");
    if (!row) return;
    dragged = row.dataset.path;
    event.dataTransfer.setData("text/plain", dragged);
    event.dataTransfer.effectAllowed = "move";
  });
  $("docs-tree").addEventListener("dragover", function (event) {
    var target = event.target.closest("[data-drop-path]");
    if (!target || dragged === null) return;
    event.preventDefault();
    document.querySelectorAll(".drop-target").forEach(function (el) { el.classList.remove("drop-target"); });
    target.classList.add("drop-target");
  });
  $("docs-tree").addEventListener("dragleave", function (event) {
    var target = event.target.closest("[data-drop-path]");
    if (target) target.classList.remove("drop-target");
  });
  $("docs-tree").addEventListener("drop", function (event) {
    var target = event.target.closest("[data-drop-path]");
    document.querySelectorAll(".drop-target").forEach(function (el) { el.classList.remove("drop-target"); });
    if (!target || dragged === null) return;
    event.preventDefault();
    var source = dragged;
    dragged = null;
    var destination = target.dataset.dropPath;
    if (folderOf(source) === destination || source === destination) return;
    movePath(source, destination);
  });
  $("docs-tree").addEventListener("dragend", function () { dragged = null; });

  function movePath(source, destination) {
    return flush().then(function () {
      return api("POST", "/api/fs/move", { sourcePath: source, destinationPath: destination || "/" });
    }).then(function (res) {
      Cognova.toast("Moved", res.data.newPath, "success");
      followRename(source, res.data.newPath);
      if (destination) state.expanded[destination] = true;
      return loadTree();
    }).catch(function (err) { Cognova.toast("Could not move", err.message, "error"); });
  }

  function followRename(oldPath, newPath) {
    if (!state.doc) return;
    if (state.doc.path === oldPath || state.doc.path.indexOf(oldPath + "/") === 0) {
      state.doc.path = newPath + state.doc.path.slice(oldPath.length);
      showPath();
    }
  }

  function renamePath(path) {
    var name = window.prompt("New name", path.split("/").pop());
    if (!name || name === path.split("/").pop()) return;
    var folder = folderOf(path);
    var newPath = (folder ? folder + "/" : "") + name;
    flush().then(function () {
      return api("POST", "/api/fs/rename", { oldPath: path, newPath: newPath });
    }).then(function () {
      followRename(path, newPath);
      if (state.doc && state.doc.path === newPath) reopen();
      return loadTree();
    }).catch(function (err) { Cognova.toast("Could not rename", err.message, "error"); });
  }

  function deletePath(path, type) {
    var what = type === "directory" ? "the folder " + path + " and everything in it" : path;
    if (!window.confirm("Delete " + what + "?")) return;
    api("POST", "/api/fs/delete", { path: path }).then(function () {
      Cognova.toast("Deleted", path, "warning");
      if (state.doc && (state.doc.path === path || state.doc.path.indexOf(path + "/") === 0)) closeDoc();
      return loadTree();
    }).catch(function (err) { Cognova.toast("Could not delete", err.message, "error"); });
  }

  // ------------------------------------------------------------------ create

  function startNew(kind) {
    state.newKind = kind;
    var form = $("docs-new");
    form.hidden = false;
    var input = $("docs-new-name");
    input.value = "";
    input.placeholder = kind === "folder" ? "Folder name" : "Note name";
    input.focus();
  }

  $("docs-new").addEventListener("submit", function (event) {
    event.preventDefault();
    var name = $("docs-new-name").value.trim().replace(/^\/+/, "");
    if (!name) return;
    var base = state.doc ? folderOf(state.doc.path) : "";
    var path = (base && name.indexOf("/") === -1 ? base + "/" : "") + name;
    var done = function () { $("docs-new").hidden = true; };
    if (state.newKind === "folder") {
      api("POST", "/api/fs/mkdir", { path: path }).then(function () {
        done();
        state.expanded[path] = true;
        return loadTree();
      }).catch(function (err) { Cognova.toast("Could not create the folder", err.message, "error"); });
      return;
    }
    if (!/\.[A-Za-z0-9]+$/.test(path)) path += ".md";
    var title = path.split("/").pop().replace(/\.[^.]+$/, "");
    api("POST", "/api/fs/read", { path: path }).then(function () {
      Cognova.toast("Already exists", path, "warning");
    }, function (err) {
      if (err.status !== 404) throw err;
      return api("POST", "/api/fs/write", { path: path, content: "# " + title + "\n\n" }).then(function () {
        done();
        var folder = folderOf(path);
        if (folder) state.expanded[folder] = true;
        return loadTree().then(function () { return openPath(path); });
      });
    }).catch(function (err) { Cognova.toast("Could not create the note", err.message, "error"); });
  });
  $("docs-new-name").addEventListener("keydown", function (event) {
    if (event.key === "Escape") $("docs-new").hidden = true;
  });

  // ------------------------------------------------------------------ open / show

  function openPath(path) {
    return flush().then(function () {
      return api("POST", "/api/documents/by-path", { path: path });
    }).then(function (res) {
      show(res.data);
      var url = new URL(location.href);
      url.searchParams.set("path", res.data.document.path);
      history.replaceState(null, "", url);
    }).catch(function (err) {
      Cognova.toast("Could not open " + path, err.message, "error");
    });
  }

  function reopen() {
    if (state.doc) return openPath(state.doc.path);
  }

  function show(view) {
    var doc = view.document;
    state.doc = doc;
    state.hash = doc.contentHash;
    state.dirty = false;
    $("docs-empty").hidden = true;
    $("docs-open").hidden = false;
    $("docs-meta").hidden = false;
    var editable = doc.kind !== "binary";
    $("docs-panes").hidden = !editable;
    $("docs-binary").hidden = editable;
    $("docs-body").value = view.body;
    var fm = $("fm-error");
    fm.hidden = !view.frontmatterError;
    fm.textContent = view.frontmatterError ? view.frontmatterError + " — the frontmatter is shown as part of the text." : "";
    showMeta(doc);
    showPath();
    setStatus("saved");
    renderPreview();
    markActive();
  }

  function showPath() {
    $("docs-path").textContent = state.doc.path;
    $("docs-title").textContent = state.doc.title;
  }

  function closeDoc() {
    state.doc = null;
    $("docs-empty").hidden = false;
    $("docs-open").hidden = true;
    $("docs-meta").hidden = true;
  }

  function showMeta(doc) {
    $("meta-title").value = doc.title;
    $("meta-tags").value = (doc.tags || []).join(", ");
    $("meta-project").value = doc.projectId || "";
    var visibility = doc.shared ? doc.shareType || "private" : "hidden";
    document.querySelectorAll('#meta-visibility input').forEach(function (r) { r.checked = r.value === visibility; });
    var link = $("share-link");
    link.hidden = !doc.shared;
    var url = location.origin + "/view/" + doc.id;
    $("share-url").value = url;
    $("share-open").href = url;
    var facts = $("docs-facts");
    facts.textContent = "";
    [["Type", doc.kind + (doc.fileType ? " · ." + doc.fileType : "")],
     ["Modified", doc.modifiedAt ? new Date(doc.modifiedAt).toLocaleString() : "—"],
     ["Created", new Date(doc.createdAt).toLocaleString()]].forEach(function (pair) {
      var dt = document.createElement("dt"); dt.textContent = pair[0];
      var dd = document.createElement("dd"); dd.textContent = pair[1];
      facts.appendChild(dt); facts.appendChild(dd);
    });
    $("meta-title").disabled = $("meta-tags").disabled = doc.kind === "binary";
  }

  function renderPreview() {
    var mode = $("docs-panes").dataset.mode;
    if (mode === "edit" || !state.doc) return;
    var text = $("docs-body").value;
    var html = state.doc.kind === "markdown" && window.marked
      ? window.marked.parse(text)
      : "<pre>" + text.replace(/[&<>]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;" }[c]; }) + "</pre>";
    $("docs-preview").innerHTML = window.DOMPurify ? window.DOMPurify.sanitize(html) : "";
  }

  document.querySelectorAll(".docs-tabs .tab").forEach(function (tab) {
    tab.addEventListener("click", function () {
      document.querySelectorAll(".docs-tabs .tab").forEach(function (t) { t.classList.toggle("active", t === tab); });
      $("docs-panes").dataset.mode = tab.dataset.mode;
      renderPreview();
    });
  });

  // ------------------------------------------------------------------ saving

  function setStatus(kind, detail) {
    var el = $("save-status");
    el.dataset.state = kind;
    el.textContent = { saved: "Saved", unsaved: "Unsaved", saving: "Saving…", error: "Error" }[kind] + (detail ? " — " + detail : "");
  }

  /** Save a change: the body (from the editor) and/or metadata fields. Saves run one at a time. */
  function save(fields) {
    if (!state.doc) return Promise.resolve();
    var run = function () {
      if (!state.doc) return null;
      var body = Object.assign({}, fields || {});
      var sendsBody = !fields;
      if (sendsBody) {
        if (!state.dirty) return null;
        body.body = $("docs-body").value;
      }
      body.expectedHash = state.hash;
      var sentText = $("docs-body").value;
      var docId = state.doc.id;
      setStatus("saving");
      // The editor shows its own saved state; don't toast our own autosaves.
      if (Cognova.notifications) Cognova.notifications.expect("document", "edit", docId);
      return api("PUT", "/api/documents/" + docId, body).then(function (res) {
        if (!state.doc || state.doc.id !== docId) return;
        state.hash = res.data.document.contentHash;
        state.doc = res.data.document;
        if (sendsBody && $("docs-body").value === sentText) state.dirty = false;
        showMeta(state.doc);
        showPath();
        setStatus(state.dirty ? "unsaved" : "saved");
      }).catch(function (err) {
        setStatus("error", err.status === 409 ? "changed on disk" : err.message);
        if (err.status === 409) {
          Cognova.toast("Changed on disk", "Another editor changed this file. Reload to see it (your text stays in the editor until then).", "error",
            { label: "Reload", run: function () { state.dirty = false; reopen(); } });
        }
        throw err;
      });
    };
    var previous = state.saving || Promise.resolve();
    var next = previous.catch(function () {}).then(run);
    state.saving = next;
    return next;
  }

  function flush() {
    clearTimeout(state.timer);
    if (state.dirty) return save().catch(function () {});
    return (state.saving || Promise.resolve()).catch(function () {});
  }

  $("docs-body").addEventListener("input", function () {
    state.dirty = true;
    setStatus("unsaved");
    renderPreview();
    clearTimeout(state.timer);
    state.timer = setTimeout(function () { save().catch(function () {}); }, AUTOSAVE_MS);
  });

  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "s") {
      event.preventDefault();
      clearTimeout(state.timer);
      if (state.doc) {
        state.dirty = true;
        save().catch(function () {});
      }
    }
  });

  window.addEventListener("beforeunload", function (event) {
    if (state.dirty) { event.preventDefault(); event.returnValue = ""; }
  });

  // metadata
  $("meta-title").addEventListener("change", function () {
    var title = $("meta-title").value.trim();
    if (title && state.doc && title !== state.doc.title) save({ title: title }).catch(function () {});
  });
  $("meta-tags").addEventListener("change", function () {
    var tags = $("meta-tags").value.split(",").map(function (t) { return t.trim(); }).filter(Boolean);
    save({ tags: tags }).catch(function () {});
  });
  $("meta-project").addEventListener("change", function () {
    save({ projectId: $("meta-project").value || null }).catch(function () {});
  });
  $("meta-visibility").addEventListener("change", function (event) {
    var value = event.target.value;
    var fields = value === "hidden" ? { shared: false } : { shared: true, shareType: value };
    save(fields).then(function () {
      if (value !== "hidden") Cognova.toast("Sharing on", value === "public" ? "Anyone with the link can read it." : "Readable with the link; not indexed.", "success");
    }).catch(function () {});
  });

  function loadProjects() {
    api("GET", "/api/projects").then(function (res) {
      var select = $("meta-project");
      (res.data || []).forEach(function (p) {
        var option = document.createElement("option");
        option.value = p.id;
        option.textContent = p.name;
        select.appendChild(option);
      });
      if (state.doc) select.value = state.doc.projectId || "";
    }).catch(function () { /* projects are optional here */ });
  }

  // ------------------------------------------------------------------ buttons

  root.addEventListener("click", function (event) {
    var button = event.target.closest("[data-docs]");
    if (!button) return;
    var action = button.dataset.docs;
    if (action === "new-note") startNew("note");
    if (action === "new-folder") startNew("folder");
    if (action === "copy-link") {
      var input = $("share-url");
      (navigator.clipboard && window.isSecureContext ? navigator.clipboard.writeText(input.value) : Promise.reject())
        .catch(function () { input.select(); document.execCommand("copy"); })
        .then(function () { Cognova.toast("Link copied", input.value, "success"); });
    }
    if (action === "rename" && state.doc) renamePath(state.doc.path);
    if (action === "delete" && state.doc) {
      if (!window.confirm("Delete " + state.doc.path + "?")) return;
      var id = state.doc.id;
      api("DELETE", "/api/documents/" + id).then(function () {
        closeDoc();
        loadTree();
        Cognova.toast("Deleted", "", "warning", {
          label: "Undo",
          run: function () {
            api("POST", "/api/documents/" + id + "/restore").then(function (res) { loadTree(); openPath(res.data.path); });
          },
        });
      }).catch(function (err) { Cognova.toast("Could not delete", err.message, "error"); });
    }
    if (action === "sync") {
      api("POST", "/api/documents/sync?wait=true").then(function (res) {
        var d = res.data;
        Cognova.toast("Vault synced", d.created !== undefined ? d.created + " new, " + d.updated + " updated, " + d.deleted + " removed" : "Running in the background", "success");
        loadTree();
      }).catch(function (err) { Cognova.toast("Sync failed", err.message, "error"); });
    }
  });

  // changes made elsewhere (another tab, the watcher) refresh the tree
  document.addEventListener("cognova:change", function (event) {
    var detail = event.detail || {};
    if (detail.resource === "document" && detail.action !== "edit") loadTree();
  });

  loadProjects();
  loadTree().then(function () {
    var initial = root.dataset.initialPath;
    if (initial) openPath(initial);
  });
})();
