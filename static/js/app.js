/* Cognova's shared client: the API helper, toasts, theme and the shell's buttons. */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  /** Call the JSON API. Resolves with the parsed body; rejects with {status, message, errors}. */
  async function api(method, path, body) {
    var headers = { Accept: "application/json" };
    var init = { method: method, headers: headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (method !== "GET" && method !== "HEAD" && csrfToken()) headers["X-CSRF-Token"] = csrfToken();
    var response = await fetch(path, init);
    var text = await response.text();
    var data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (!response.ok) {
      if (response.status === 401 && !path.startsWith("/api/auth/sign-in")) {
        window.location = "/login?redirect=" + encodeURIComponent(location.pathname + location.search);
      }
      var err = new Error((data && data.message) || response.statusText);
      err.status = response.status;
      err.errors = (data && data.errors) || {};
      throw err;
    }
    return data;
  }

  function toast(title, message, color, action) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var el = document.createElement("div");
    el.className = "toast " + (color || "info");
    var strong = document.createElement("strong");
    strong.textContent = title;
    el.appendChild(strong);
    if (message) {
      var p = document.createElement("span");
      p.textContent = message;
      el.appendChild(p);
    }
    if (action) {
      var btn = document.createElement("button");
      btn.className = "toast-action";
      btn.type = "button";
      btn.textContent = action.label;
      btn.addEventListener("click", function () { action.run(); el.remove(); });
      el.appendChild(btn);
    }
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, action ? 8000 : 4500);
  }

  /** Apply a theme now; it is kept in localStorage (no flash on load) and in the user's
   *  settings (ui.theme), unless opts.local says the caller saves it itself. */
  function setTheme(theme, opts) {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem("cognova.theme", theme);
    if (!(opts && opts.local) && csrfToken()) {
      api("PUT", "/api/settings", { ui: { theme: theme } }).catch(function () {});
    }
  }

  // The saved setting wins over this browser's copy (it may have been changed elsewhere).
  if (csrfToken()) {
    api("GET", "/api/settings").then(function (body) {
      var saved = body && body.data && body.data.ui && body.data.ui.theme;
      if (saved && saved !== localStorage.getItem("cognova.theme")) setTheme(saved, { local: true });
    }).catch(function () {});
  }

  function effectiveTheme() {
    var t = document.documentElement.dataset.theme;
    if (t === "system") return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
    return t;
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-action]");
    if (!target) return;
    var action = target.dataset.action;
    if (action === "toggle-theme") setTheme(effectiveTheme() === "dark" ? "light" : "dark");
    if (action === "toggle-nav") document.body.classList.toggle("nav-open");
    if (action === "sign-out") {
      api("POST", "/api/auth/sign-out").finally(function () { window.location = "/login"; });
    }
    if (action === "open-search") document.dispatchEvent(new CustomEvent("cognova:search"));
  });

  /** Parse one Server-Sent Event block into {id, event, data} (data JSON-decoded when it can be). */
  function parseEvent(text) {
    var ev = { id: null, event: "message", data: null }, any = false;
    text.split("\n").forEach(function (line) {
      if (!line || line.charAt(0) === ":") return;
      var idx = line.indexOf(":");
      var key = line.slice(0, idx), value = line.slice(idx + 1).replace(/^ /, "");
      if (key === "data") { try { ev.data = JSON.parse(value); } catch (e) { ev.data = value; } }
      else if (key === "id" || key === "event") ev[key] = value;
      any = true;
    });
    return any ? ev : null;
  }

  /** Read an event-stream fetch response, calling onEvent(ev) for each event until it returns true
   *  (resolves true) or the stream ends (resolves false). */
  async function readEventStream(response, onEvent) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) return false;
      buffer += decoder.decode(chunk.value, { stream: true });
      var parts = buffer.split("\n\n");
      buffer = parts.pop();
      for (var i = 0; i < parts.length; i++) {
        var ev = parseEvent(parts[i]);
        if (ev && onEvent(ev)) { reader.cancel().catch(function () {}); return true; }
      }
    }
  }

  window.Cognova = {
    api: api,
    toast: toast,
    setTheme: setTheme,
    csrfToken: csrfToken,
    parseEvent: parseEvent,
    readEventStream: readEventStream,
  };
})();
