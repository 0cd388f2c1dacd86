/* The compact chat panel: ask Claude from any page, without leaving it. */
(function () {
  "use strict";
  if (location.pathname === "/chat" || location.pathname.indexOf("/chat/") === 0) return;

  var KEY = "cognova.panel.conversation";
  var state = { id: sessionStorage.getItem(KEY), streaming: false, reply: null, controller: null };

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function loadScript(src) {
    return new Promise(function (resolve) {
      var s = document.createElement("script");
      s.src = src;
      s.onload = s.onerror = resolve;
      document.head.appendChild(s);
    });
  }

  var renderReady = null;
  function ensureMarkdown() {
    if (!renderReady) {
      renderReady = Promise.all([
        window.marked ? null : loadScript("/static/vendor/marked.umd.js"),
        window.DOMPurify ? null : loadScript("/static/vendor/purify.min.js"),
      ]);
    }
    return renderReady;
  }

  function markdown(node, text) {
    if (window.marked && window.DOMPurify) {
      node.innerHTML = window.DOMPurify.sanitize(window.marked.parse(text || "", { breaks: true }));
    } else {
      node.textContent = text;
    }
  }

  var fab = el("button", "chat-fab");
  fab.type = "button";
  fab.setAttribute("aria-label", "Ask Claude");
  fab.title = "Ask Claude";
  fab.innerHTML = '<svg width="22" height="22" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M4 5.5A1.5 1.5 0 0 1 5.5 4h13A1.5 1.5 0 0 1 20 5.5v9a1.5 1.5 0 0 1-1.5 1.5H9l-5 4z"/></svg>';

  var panel = el("section", "chat-panel");
  panel.hidden = true;
  panel.setAttribute("aria-label", "Ask Claude");
  panel.innerHTML =
    '<header class="chat-panel-head"><strong>Ask Claude</strong>' +
    '<a class="link chat-panel-open" href="/chat">Open in chat</a>' +
    '<button type="button" class="icon-btn chat-panel-new" title="New conversation" aria-label="New conversation">+</button>' +
    '<button type="button" class="icon-btn chat-panel-close" title="Close" aria-label="Close">×</button></header>' +
    '<div class="chat-panel-log" aria-live="polite"><p class="muted chat-panel-hint">Ask about your tasks and notes, or have Claude change them.</p></div>' +
    '<form class="chat-panel-form"><textarea rows="2" placeholder="Message Claude… (Enter to send)" aria-label="Message"></textarea>' +
    '<button type="submit" class="btn primary chat-panel-send">Send</button>' +
    '<button type="button" class="btn chat-panel-stop" hidden>Stop</button></form>';
  document.body.appendChild(panel);
  document.body.appendChild(fab);
  document.body.classList.add("has-chat-fab");

  var log = panel.querySelector(".chat-panel-log");
  var input = panel.querySelector("textarea");
  var sendBtn = panel.querySelector(".chat-panel-send");
  var stopBtn = panel.querySelector(".chat-panel-stop");
  var openLink = panel.querySelector(".chat-panel-open");

  function setConversation(id) {
    state.id = id;
    if (id) sessionStorage.setItem(KEY, id);
    else sessionStorage.removeItem(KEY);
    openLink.href = id ? "/chat/" + id : "/chat";
  }
  setConversation(state.id);

  function setStreaming(on) {
    state.streaming = on;
    sendBtn.hidden = on;
    stopBtn.hidden = !on;
    input.disabled = on;
  }

  function scroll() { log.scrollTop = log.scrollHeight; }

  function toggle(open) {
    panel.hidden = !open;
    fab.classList.toggle("active", open);
    document.body.classList.toggle("chat-panel-open", open);
    if (open) { ensureMarkdown(); input.focus(); }
  }

  function handle(ev) {
    var data = ev.data || {};
    var reply = state.reply;
    if (data.conversationId) setConversation(data.conversationId);
    if (ev.event === "text_delta") {
      if (reply.afterTool && reply.text) reply.text += "\n\n";
      reply.afterTool = false;
      reply.text += data.delta;
      markdown(reply.body, reply.text);
    } else if (ev.event === "tool_start") {
      var chip = el("div", "chat-panel-tool running", data.toolName);
      chip.dataset.id = data.toolUseId;
      reply.afterTool = true;
      reply.node.insertBefore(chip, reply.foot);
    } else if (ev.event === "tool_end") {
      var done = reply.node.querySelector('.chat-panel-tool[data-id="' + data.toolUseId + '"]');
      if (done) done.className = "chat-panel-tool " + (data.isError ? "error" : "done");
    } else if (ev.event === "stream_end") {
      reply.foot.textContent = "$" + Number(data.costUsd || 0).toFixed(4) + " · " + (data.durationMs / 1000).toFixed(1) + " s";
      return true;
    } else if (ev.event === "interrupted") {
      reply.foot.textContent = "Stopped";
      return true;
    } else if (ev.event === "error") {
      reply.foot.textContent = data.message || "Something went wrong";
      reply.node.classList.add("failed");
      return true;
    }
    scroll();
    return false;
  }

  async function send(text) {
    var hint = log.querySelector(".chat-panel-hint");
    if (hint) hint.remove();
    log.appendChild(el("div", "chat-panel-msg user", text));
    var node = el("div", "chat-panel-msg assistant");
    var body = el("div", "chat-panel-text");
    var foot = el("div", "chat-panel-foot muted");
    node.appendChild(body);
    node.appendChild(foot);
    log.appendChild(node);
    state.reply = { node: node, body: body, foot: foot, text: "" };
    scroll();
    setStreaming(true);
    await ensureMarkdown();
    var payload = { message: text };
    if (state.id) payload.conversationId = state.id;
    try {
      var response = await fetch("/api/chat", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream", "X-CSRF-Token": Cognova.csrfToken() },
        body: JSON.stringify(payload),
      });
      if (response.status === 404 && state.id) {
        setConversation(null);
        node.remove();
        log.lastChild.remove();
        setStreaming(false);
        return send(text);
      }
      if (!response.ok) {
        var err = {};
        try { err = await response.json(); } catch (e) { /* not JSON */ }
        foot.textContent = err.message || response.statusText;
        node.classList.add("failed");
        return;
      }
      setConversation(response.headers.get("X-Conversation-Id") || state.id);
      await Cognova.readEventStream(response, handle);
    } catch (e) {
      foot.textContent = "Connection lost. Open the conversation to see the full reply.";
    } finally {
      setStreaming(false);
      input.focus();
      scroll();
    }
  }

  fab.addEventListener("click", function () { toggle(panel.hidden); });
  panel.querySelector(".chat-panel-close").addEventListener("click", function () { toggle(false); });
  panel.querySelector(".chat-panel-new").addEventListener("click", function () {
    setConversation(null);
    log.innerHTML = '<p class="muted chat-panel-hint">A new conversation starts with your next message.</p>';
  });
  stopBtn.addEventListener("click", function () {
    if (state.id) Cognova.api("POST", "/api/chat/" + state.id + "/interrupt").catch(function () {});
  });
  panel.querySelector("form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text || state.streaming) return;
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); panel.querySelector("form").requestSubmit(); }
    if (ev.key === "Escape") toggle(false);
  });
})();
