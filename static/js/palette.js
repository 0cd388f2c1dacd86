/* The search palette (Ctrl/Cmd+K on every signed-in page), backed by GET /api/search.
   Snippets arrive HTML-escaped with <mark> around the matches; titles are set as text. */
(function () {
  "use strict";
  if (!window.Cognova) return;
  var LABELS = { document: "Note", task: "Task", memory: "Memory", agent: "Agent", conversation: "Chat" };
  var overlay, input, list, empty, items = [], active = -1, timer = null, seq = 0;

  function build() {
    overlay = document.createElement("div");
    overlay.className = "palette-overlay";
    overlay.hidden = true;
    overlay.innerHTML =
      '<div class="palette" role="dialog" aria-modal="true" aria-label="Search">' +
      '<input class="palette-input" type="search" placeholder="Search notes, tasks, chats…" aria-label="Search" autocomplete="off" spellcheck="false">' +
      '<ul class="palette-results" role="listbox"></ul>' +
      '<p class="palette-empty muted">Type to search everything.</p>' +
      '<footer class="palette-foot muted"><span><kbd>↑</kbd><kbd>↓</kbd> to move</span><span><kbd>Enter</kbd> to open</span><span><kbd>Esc</kbd> to close</span></footer>' +
      "</div>";
    document.body.appendChild(overlay);
    input = overlay.querySelector(".palette-input");
    list = overlay.querySelector(".palette-results");
    empty = overlay.querySelector(".palette-empty");
    overlay.addEventListener("mousedown", function (event) { if (event.target === overlay) close(); });
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(run, 150);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") { event.preventDefault(); highlight(Math.min(active + 1, items.length - 1)); }
      else if (event.key === "ArrowUp") { event.preventDefault(); highlight(Math.max(active - 1, 0)); }
      else if (event.key === "Enter") { event.preventDefault(); if (items[active]) go(items[active]); }
      else if (event.key === "Escape") { event.preventDefault(); close(); }
    });
  }

  function open() {
    if (!overlay) build();
    overlay.hidden = false;
    document.body.classList.add("palette-open");
    input.select();
    input.focus();
  }

  function close() {
    if (!overlay) return;
    overlay.hidden = true;
    document.body.classList.remove("palette-open");
  }

  function run() {
    var q = input.value.trim();
    var mine = ++seq;
    if (!q) { render([], ""); return; }
    Cognova.api("GET", "/api/search?limit=20&q=" + encodeURIComponent(q)).then(function (res) {
      if (mine === seq) render(res.data, q);
    }).catch(function (err) {
      if (mine === seq) { render([], q); empty.textContent = err.message; }
    });
  }

  function render(hits, q) {
    items = hits;
    list.textContent = "";
    empty.hidden = hits.length > 0;
    empty.textContent = q ? "Nothing found for “" + q + "”." : "Type to search everything.";
    hits.forEach(function (hit, index) {
      var li = document.createElement("li");
      li.className = "palette-item";
      li.setAttribute("role", "option");
      li.dataset.index = index;
      var kind = document.createElement("span");
      kind.className = "palette-kind kind-" + hit.type;
      kind.textContent = LABELS[hit.type] || hit.type;
      var main = document.createElement("div");
      main.className = "palette-main";
      var title = document.createElement("strong");
      title.textContent = hit.title;
      var snippet = document.createElement("span");
      snippet.className = "palette-snippet";
      snippet.innerHTML = hit.snippet; // escaped by the server; only <mark> is markup
      main.appendChild(title);
      main.appendChild(snippet);
      li.appendChild(kind);
      li.appendChild(main);
      li.addEventListener("mousemove", function () { highlight(index); });
      li.addEventListener("click", function () { go(hit); });
      list.appendChild(li);
    });
    highlight(hits.length ? 0 : -1);
  }

  function highlight(index) {
    active = index;
    list.querySelectorAll(".palette-item").forEach(function (el, i) {
      el.classList.toggle("active", i === index);
      el.setAttribute("aria-selected", i === index ? "true" : "false");
      if (i === index) el.scrollIntoView({ block: "nearest" });
    });
  }

  function go(hit) {
    close();
    window.location.href = hit.url;
  }

  document.addEventListener("cognova:search", open);
  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "k") {
      event.preventDefault();
      if (overlay && !overlay.hidden) close(); else open();
    }
  });
  window.Cognova.openSearch = open;
})();
