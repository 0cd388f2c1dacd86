/* Live notifications on every signed-in page.
 *
 * One EventSource on /api/notifications/stream. Every resource_change is re-dispatched as a
 * `cognova:change` DOM event (detail = the payload) so pages refresh themselves, and shown as a
 * toast when the user's notification preferences (settings, API.md §16) allow it. After a
 * reconnect a `cognova:change` with action "reconnect" tells pages they may have missed events.
 */
(function () {
  "use strict";

  var DEFAULT_PREFERENCES = {
    task: { enabled: true, create: true, edit: true, delete: true, restore: true },
    project: { enabled: true, create: true, edit: true, delete: true, restore: true },
    reminder: { enabled: true, create: true, edit: true, delete: true, complete: true },
    agent: { enabled: true, create: true, edit: true, delete: true, run: true, complete: true, fail: true, cancel: true },
    document: { enabled: true, create: true, edit: true, delete: true, restore: true },
    memory: { enabled: true, create: true, edit: true, delete: true },
    secret: { enabled: true, create: true, edit: true, delete: true },
    hook: { enabled: true, create: false },
    conversation: { enabled: true, create: false, edit: false, delete: true }
  };
  var STREAM = "/api/notifications/stream";
  var MIN_RETRY = 3000;
  var MAX_RETRY = 60000;

  var preferences = DEFAULT_PREFERENCES;
  var source = null;
  var state = "connecting";
  var everConnected = false;
  var retryDelay = MIN_RETRY;
  var retryTimer = null;
  var expected = [];
  var indicator = null;

  function mergePreferences(stored) {
    var merged = {};
    Object.keys(DEFAULT_PREFERENCES).forEach(function (resource) {
      merged[resource] = Object.assign({}, DEFAULT_PREFERENCES[resource], (stored || {})[resource] || {});
    });
    return merged;
  }

  /** Preferences come from GET /api/settings; without it (404, offline) the defaults apply. */
  function loadPreferences() {
    return fetch("/api/settings", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        var stored = body && body.data && body.data.notifications && body.data.notifications.preferences;
        preferences = mergePreferences(stored);
      })
      .catch(function () { preferences = DEFAULT_PREFERENCES; });
  }

  function allowed(event) {
    var flags = preferences[event.resource];
    return !!flags && flags.enabled === true && flags[event.action] === true;
  }

  /** A page announces a change it already showed (e.g. a delete with its own Undo toast),
   *  so the stream's echo of it is not toasted twice. */
  function expect(resource, action, id) {
    expected.push({ resource: resource, action: action, id: id ? String(id) : null, until: Date.now() + 15000 });
  }

  function consumeExpected(event) {
    var now = Date.now();
    expected = expected.filter(function (e) { return e.until > now; });
    for (var i = 0; i < expected.length; i++) {
      var e = expected[i];
      if (e.resource === event.resource && e.action === event.action && (!e.id || e.id === event.resourceId)) {
        expected.splice(i, 1);
        return true;
      }
    }
    return false;
  }

  function toastFor(event) {
    if (event.resource === "reminder" && event.action === "complete") {
      // The event names the reminder, not its task: look the task up only if the user asks.
      var open = {
        label: "Open task",
        run: function () {
          Cognova.api("GET", "/api/reminders/" + event.resourceId)
            .then(function (body) { return body.data.taskId; }, function () { return null; })
            .then(function (taskId) { location.href = taskId ? "/tasks?selected=" + taskId : "/tasks"; });
        }
      };
      Cognova.toast("Reminder", event.resourceName || "A reminder is due", "info", open);
      return;
    }
    Cognova.toast(event.title, event.message, event.color);
  }

  function dispatch(detail) {
    document.dispatchEvent(new CustomEvent("cognova:change", { detail: detail }));
  }

  function onChange(message) {
    var event;
    try { event = JSON.parse(message.data); } catch (e) { return; }
    if (!event || event.type !== "resource_change") return;
    dispatch(event);
    if (!consumeExpected(event) && allowed(event)) toastFor(event);
  }

  var LABELS = { live: "Live updates on", connecting: "Connecting…", reconnecting: "Reconnecting…", offline: "Live updates offline" };

  function setState(next) {
    state = next;
    document.documentElement.dataset.live = next;
    if (indicator) {
      indicator.className = "live-dot " + next;
      indicator.title = LABELS[next] || next;
      indicator.setAttribute("aria-label", indicator.title);
    }
    document.dispatchEvent(new CustomEvent("cognova:live", { detail: { state: next } }));
  }

  function scheduleReconnect() {
    if (retryTimer) return;
    retryTimer = setTimeout(function () { retryTimer = null; connect(); }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, MAX_RETRY);
  }

  function connect() {
    if (source) source.close();
    setState(everConnected ? "reconnecting" : "connecting");
    source = new EventSource(STREAM);
    source.addEventListener("connected", function () {
      var wasConnected = everConnected;
      everConnected = true;
      retryDelay = MIN_RETRY;
      setState("live");
      if (wasConnected) dispatch({ type: "reconnect", resource: null, action: "reconnect" });
    });
    source.addEventListener("resource_change", onChange);
    source.onerror = function () {
      // The browser retries by itself after `retry`; a refused stream (401, 5xx) stays closed.
      if (source.readyState === EventSource.CLOSED) {
        setState("offline");
        scheduleReconnect();
      } else {
        setState("reconnecting");
      }
    };
  }

  function mountIndicator() {
    var bar = document.querySelector(".topbar");
    if (!bar) return;
    indicator = document.createElement("span");
    indicator.setAttribute("role", "status");
    var search = bar.querySelector(".search-trigger");
    bar.insertBefore(indicator, search || null);
  }

  if (!window.EventSource || !window.Cognova) return;
  mountIndicator();
  loadPreferences().then(connect);
  // A closed tab should free its server thread now rather than at the next keep-alive.
  window.addEventListener("pagehide", function () { if (source) source.close(); });
  window.addEventListener("pageshow", function (e) { if (e.persisted) connect(); });
  document.addEventListener("cognova:settings", function () { loadPreferences(); });

  Cognova.notifications = {
    state: function () { return state; },
    allowed: allowed,
    expect: expect,
    reloadPreferences: loadPreferences,
    defaults: DEFAULT_PREFERENCES
  };
})();
