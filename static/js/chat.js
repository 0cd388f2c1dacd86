/* The chat page: conversation list, streaming replies over SSE, tool-call blocks, stop, resume. */
(function () {
  "use strict";

  var root = document.getElementById("chat");
  if (!root) return;
  var $ = function (id) { return document.getElementById(id); };
  var listEl = $("chat-list"), messagesEl = $("chat-messages"), input = $("chat-input");
  var sendBtn = $("chat-send"), stopBtn = $("chat-stop"), titleEl = $("chat-title");
  var statusEl = $("chat-status"), connEl = $("chat-conn"), actionsEl = $("chat-actions");

  var state = {
    id: root.dataset.conversationId || null,
    conversation: null,
    streaming: false,
    lastEventId: null,
    reply: null, // the assistant bubble being streamed
    controller: null,
    generation: 0, // bumps when the user switches conversation: stale streams stop drawing
  };

  // ------------------------------------------------------------------ helpers

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function markdown(text) {
    var html = window.marked ? window.marked.parse(text || "", { breaks: true }) : text;
    return window.DOMPurify ? window.DOMPurify.sanitize(html) : el("div", null, text).innerHTML;
  }

  function money(v) {
    if (v === null || v === undefined) return "";
    return "$" + (v < 0.01 ? Number(v).toFixed(4) : Number(v).toFixed(2));
  }

  function seconds(ms) {
    if (ms === null || ms === undefined) return "";
    return (ms / 1000).toFixed(1) + " s";
  }

  function ago(iso) {
    if (!iso) return "";
    var s = (Date.now() - new Date(iso).getTime()) / 1000;
    if (s < 60) return "just now";
    if (s < 3600) return Math.floor(s / 60) + " min ago";
    if (s < 86400) return Math.floor(s / 3600) + " h ago";
    return new Date(iso).toLocaleDateString();
  }

  function scrollDown(force) {
    var nearBottom = messagesEl.scrollHeight - messagesEl.scrollTop - messagesEl.clientHeight < 120;
    if (force || nearBottom) messagesEl.scrollTop = messagesEl.scrollHeight;
  }

  function setStreaming(on) {
    state.streaming = on;
    sendBtn.hidden = on;
    stopBtn.hidden = !on;
    root.classList.toggle("is-streaming", on);
  }

  function setConn(text) {
    connEl.hidden = !text;
    connEl.textContent = text || "";
  }

  function setStatus(status) {
    statusEl.hidden = !status || status === "idle";
    statusEl.textContent = status || "";
    statusEl.className = "badge chat-status-" + (status || "idle");
  }

  // ------------------------------------------------------------------ the list

  var searchTimer = null;
  async function loadList() {
    var q = $("chat-search").value.trim();
    var path = "/api/conversations?limit=100" + (q ? "&search=" + encodeURIComponent(q) : "");
    try {
      var body = await Cognova.api("GET", path);
      renderList(body.data);
    } catch (e) { Cognova.toast("Could not load conversations", e.message, "error"); }
  }

  function renderList(items) {
    listEl.textContent = "";
    if (!items.length) {
      listEl.appendChild(el("li", "chat-list-empty muted", $("chat-search").value ? "No matches" : "No conversations yet"));
      return;
    }
    items.forEach(function (c) {
      var li = el("li", "chat-item" + (c.id === state.id ? " active" : ""));
      li.dataset.id = c.id;
      var a = el("a", "chat-item-link");
      a.href = "/chat/" + c.id;
      a.appendChild(el("span", "chat-item-title", c.title || "Untitled"));
      var meta = el("span", "chat-item-meta muted", ago(c.endedAt || c.startedAt) + (c.totalCostUsd ? " · " + money(c.totalCostUsd) : ""));
      if (c.status === "streaming") meta.prepend(el("span", "chat-dot", ""));
      a.appendChild(meta);
      a.addEventListener("click", function (ev) { ev.preventDefault(); open(c.id, true); });
      li.appendChild(a);
      listEl.appendChild(li);
    });
  }

  // ------------------------------------------------------------------ rendering messages

  function userBubble(text) {
    var wrap = el("div", "msg msg-user");
    wrap.appendChild(el("div", "msg-body", text));
    messagesEl.appendChild(wrap);
    return wrap;
  }

  function Reply() {
    this.wrap = el("div", "msg msg-assistant");
    this.body = el("div", "msg-body");
    this.foot = el("div", "msg-foot muted");
    this.wrap.appendChild(this.body);
    this.wrap.appendChild(this.foot);
    this.segment = null;
    this.text = "";
    this.tools = {};
    this.pending = false;
    messagesEl.appendChild(this.wrap);
  }
  Reply.prototype.appendText = function (delta) {
    if (!this.segment) {
      this.segment = el("div", "msg-text markdown");
      this.body.appendChild(this.segment);
      this.text = "";
    }
    this.text += delta;
    this.segment.dataset.raw = this.text;
    this.schedule();
  };
  Reply.prototype.schedule = function () {
    if (this.pending) return;
    this.pending = true;
    var self = this;
    requestAnimationFrame(function () {
      self.pending = false;
      if (self.segment) self.segment.innerHTML = markdown(self.segment.dataset.raw);
      scrollDown();
    });
  };
  Reply.prototype.flush = function () {
    if (this.segment) this.segment.innerHTML = markdown(this.segment.dataset.raw);
    this.segment = null;
  };
  Reply.prototype.toolStart = function (id, name, args) {
    this.flush();
    var box = el("details", "tool tool-running");
    box.dataset.toolUseId = id;
    var summary = el("summary", "tool-head");
    summary.appendChild(el("span", "tool-state", "Running"));
    summary.appendChild(el("code", "tool-name", name));
    box.appendChild(summary);
    var inputPre = el("pre", "tool-input", JSON.stringify(args || {}, null, 2));
    box.appendChild(el("div", "tool-label muted", "Input"));
    box.appendChild(inputPre);
    this.body.appendChild(box);
    this.tools[id] = box;
    scrollDown();
  };
  Reply.prototype.toolEnd = function (id, result, isError) {
    var box = this.tools[id];
    if (!box) return;
    box.classList.remove("tool-running");
    box.classList.add(isError ? "tool-error" : "tool-done");
    box.querySelector(".tool-state").textContent = isError ? "Error" : "Done";
    box.appendChild(el("div", "tool-label muted", "Result"));
    box.appendChild(el("pre", "tool-result", prettyJson(result)));
  };
  Reply.prototype.finish = function (kind, data) {
    this.flush();
    this.wrap.classList.add("msg-" + kind);
    if (kind === "done") {
      this.foot.textContent = [money(data.costUsd), seconds(data.durationMs)].filter(Boolean).join(" · ");
    } else if (kind === "interrupted") {
      this.foot.textContent = "Stopped";
    } else if (kind === "error") {
      var err = el("div", "msg-error", data.message || "Something went wrong");
      this.body.appendChild(err);
    }
    if (!this.body.childNodes.length && kind !== "error") this.body.appendChild(el("div", "muted", "(no reply)"));
  };

  function prettyJson(text) {
    if (typeof text !== "string") return JSON.stringify(text, null, 2);
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch (e) { return text; }
  }

  function renderStored(message) {
    if (message.role === "user") {
      var text = message.content.filter(function (b) { return b.type === "text"; }).map(function (b) { return b.text; }).join("\n");
      userBubble(text);
      return;
    }
    var reply = new Reply();
    message.content.forEach(function (b) {
      if (b.type === "text") { reply.appendText(b.text); reply.flush(); }
      else if (b.type === "tool_use") reply.toolStart(b.id, b.name, b.input);
      else if (b.type === "tool_result") {
        var content = typeof b.content === "string" ? b.content : JSON.stringify(b.content);
        reply.toolEnd(b.tool_use_id, content, b.is_error);
      }
    });
    reply.finish("done", { costUsd: message.costUsd, durationMs: message.durationMs });
  }

  function showConversation(c) {
    state.conversation = c;
    titleEl.textContent = c ? (c.title || "Untitled") : "New chat";
    document.title = (c ? (c.title || "Chat") : "Chat") + " · Cognova";
    actionsEl.hidden = !c;
    setStatus(c ? c.status : null);
    if (c) {
      $("chat-total").textContent = c.totalCostUsd ? money(c.totalCostUsd) + " total" : "";
      $("chat-export").href = "/api/conversations/" + c.id + "/export";
    }
    listEl.querySelectorAll(".chat-item").forEach(function (li) { li.classList.toggle("active", !!c && li.dataset.id === c.id); });
  }

  function clearMessages(showWelcome) {
    messagesEl.textContent = "";
    if (showWelcome) messagesEl.appendChild(welcome);
  }

  // ------------------------------------------------------------------ opening a conversation

  async function open(id, push) {
    state.generation += 1;
    if (state.controller) state.controller.abort();
    setStreaming(false);
    setConn(null);
    state.id = id;
    state.lastEventId = null;
    state.reply = null;
    if (push) history.pushState({ id: id }, "", id ? "/chat/" + id : "/chat");
    if (!id) {
      showConversation(null);
      clearMessages(true);
      input.focus();
      return;
    }
    var body;
    try {
      body = await Cognova.api("GET", "/api/conversations/" + id);
    } catch (e) {
      if (e.status === 404) { Cognova.toast("Conversation not found", "", "warning"); open(null, true); }
      return;
    }
    var c = body.data;
    showConversation(c);
    clearMessages(false);
    c.messages.forEach(renderStored);
    scrollDown(true);
    if (c.status === "streaming") attach(state.generation);
  }

  // ------------------------------------------------------------------ the event stream

  function handle(ev, gen) {
    if (gen !== state.generation) return;
    var d = ev.data || {};
    if (ev.id) state.lastEventId = ev.id;
    switch (ev.event) {
      case "session_created":
        state.id = d.conversationId;
        history.replaceState({ id: state.id }, "", "/chat/" + state.id);
        actionsEl.hidden = false;
        $("chat-export").href = "/api/conversations/" + state.id + "/export";
        loadList();
        break;
      case "stream_start":
        setStatus("streaming");
        if (!state.reply) state.reply = new Reply();
        break;
      case "text_delta":
        if (!state.reply) state.reply = new Reply();
        state.reply.appendText(d.delta);
        break;
      case "tool_start":
        if (!state.reply) state.reply = new Reply();
        state.reply.toolStart(d.toolUseId, d.toolName, d.input);
        break;
      case "tool_end":
        if (state.reply) state.reply.toolEnd(d.toolUseId, d.result, d.isError);
        break;
      case "stream_end":
      case "interrupted":
      case "error":
        if (!state.reply) state.reply = new Reply();
        state.reply.finish(ev.event === "stream_end" ? "done" : ev.event, d);
        state.reply = null;
        setStreaming(false);
        setConn(null);
        setStatus(ev.event === "stream_end" ? "idle" : ev.event === "error" ? "error" : "interrupted");
        refreshMeta();
        return true;
    }
    return false;
  }

  async function refreshMeta() {
    if (!state.id) return;
    try {
      var body = await Cognova.api("GET", "/api/conversations/" + state.id);
      var c = body.data;
      delete c.messages;
      showConversation(c);
    } catch (e) { /* the list refresh below still runs */ }
    loadList();
    // The title is generated a moment after the first reply.
    setTimeout(function () { if (!state.streaming) loadList().then(function () { refreshTitle(); }); }, 2500);
  }

  async function refreshTitle() {
    if (!state.id || state.streaming) return;
    try {
      var c = (await Cognova.api("GET", "/api/conversations/" + state.id)).data;
      titleEl.textContent = c.title || "Untitled";
    } catch (e) { /* ignore */ }
  }

  /** Read an SSE response body; resolves true when a terminal event arrived. */
  function consume(response, gen) {
    return Cognova.readEventStream(response, function (ev) {
      return handle(ev, gen) || gen !== state.generation;
    });
  }

  async function send(text) {
    var gen = state.generation;
    if (messagesEl.contains(welcome)) clearMessages(false);
    userBubble(text);
    scrollDown(true);
    setStreaming(true);
    state.lastEventId = null;
    state.reply = null;
    state.controller = new AbortController();
    var body = { message: text };
    if (state.id) body.conversationId = state.id;
    var response;
    try {
      response = await fetch("/api/chat", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream", "X-CSRF-Token": csrf() },
        body: JSON.stringify(body),
        signal: state.controller.signal,
      });
    } catch (e) {
      setStreaming(false);
      Cognova.toast("Message not sent", "The server could not be reached.", "error");
      return;
    }
    if (!response.ok) {
      var err = {};
      try { err = await response.json(); } catch (e) { /* not JSON */ }
      setStreaming(false);
      messagesEl.lastChild.classList.add("msg-failed");
      Cognova.toast("Message not sent", err.message || response.statusText, "error");
      if (response.status === 401) location = "/login?redirect=" + encodeURIComponent(location.pathname);
      return;
    }
    state.id = response.headers.get("X-Conversation-Id") || state.id;
    var finished = false;
    try { finished = await consume(response, gen); } catch (e) { finished = false; }
    if (!finished && gen === state.generation) attach(gen);
  }

  /** Re-attach to the conversation's turn, resuming after the last event seen. */
  async function attach(gen) {
    setStreaming(true);
    for (var attempt = 0; attempt < 30 && gen === state.generation; attempt++) {
      if (attempt > 0 || state.lastEventId) setConn("Reconnecting…");
      if (attempt > 0) await new Promise(function (r) { setTimeout(r, Math.min(500 * attempt, 4000)); });
      if (gen !== state.generation) return;
      state.controller = new AbortController();
      var headers = { Accept: "text/event-stream" };
      if (state.lastEventId) headers["Last-Event-ID"] = state.lastEventId;
      var response;
      try {
        response = await fetch("/api/chat/" + state.id + "/stream", {
          credentials: "same-origin", headers: headers, signal: state.controller.signal,
        });
      } catch (e) { continue; }
      if (response.status === 204 || response.status === 404) {
        setStreaming(false);
        setConn(null);
        return open(state.id, false);
      }
      if (!response.ok) continue;
      setConn(null);
      if (!state.lastEventId) {
        // A replay from the start re-draws this turn's reply from scratch.
        if (state.reply) { state.reply.wrap.remove(); state.reply = null; }
      }
      try { if (await consume(response, gen)) return; } catch (e) { /* dropped: retry */ }
    }
    if (gen === state.generation) { setConn("Disconnected"); setStreaming(false); }
  }

  // ------------------------------------------------------------------ actions

  var welcome = $("chat-welcome");

  $("chat-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text || state.streaming) return;
    input.value = "";
    autosize();
    send(text);
  });

  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      $("chat-form").requestSubmit();
    }
  });

  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 220) + "px";
  }
  input.addEventListener("input", autosize);

  stopBtn.addEventListener("click", async function () {
    if (!state.id) return;
    stopBtn.disabled = true;
    try { await Cognova.api("POST", "/api/chat/" + state.id + "/interrupt"); }
    catch (e) { if (e.status !== 404) Cognova.toast("Could not stop", e.message, "error"); }
    finally { stopBtn.disabled = false; }
  });

  $("chat-new").addEventListener("click", function () { open(null, true); });

  $("chat-search").addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(loadList, 200);
  });

  $("chat-rename").addEventListener("click", async function () {
    if (!state.id) return;
    var title = prompt("Rename conversation", titleEl.textContent);
    if (title === null || !title.trim()) return;
    try {
      var c = (await Cognova.api("PATCH", "/api/conversations/" + state.id, { title: title.trim() })).data;
      titleEl.textContent = c.title;
      loadList();
    } catch (e) { Cognova.toast("Could not rename", e.message, "error"); }
  });

  $("chat-delete").addEventListener("click", async function () {
    if (!state.id || !confirm("Delete this conversation and all its messages?")) return;
    try {
      await Cognova.api("DELETE", "/api/conversations/" + state.id);
      Cognova.toast("Conversation deleted", "", "warning");
      await open(null, true);
      loadList();
    } catch (e) { Cognova.toast("Could not delete", e.message, "error"); }
  });

  window.addEventListener("popstate", function () {
    var m = location.pathname.match(/^\/chat\/([0-9a-f-]{36})$/i);
    open(m ? m[1] : null, false);
  });

  loadList();
  open(state.id, false);
})();
