/* Settings page: account (profile, email, password, sessions), secrets, app preferences. */
(function () {
  "use strict";

  var page = document.getElementById("settings-page");
  if (!page) return;
  var api = window.Cognova.api;
  var toast = window.Cognova.toast;

  function $(sel, root) { return (root || document).querySelector(sel); }

  function showError(form, err) {
    var box = form.querySelector(".form-error");
    if (!box) return;
    if (!err) { box.hidden = true; box.textContent = ""; return; }
    var details = Object.keys(err.errors || {}).map(function (k) { return k + " " + err.errors[k]; });
    box.textContent = details.length ? details.join("; ") : err.message;
    box.hidden = false;
  }

  function busy(form, on) {
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = on; });
  }

  function when(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    return d.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" }) +
      " " + d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // ------------------------------------------------------------------ account

  function browserName(ua) {
    if (!ua) return "Unknown device";
    var b = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrome\//.test(ua) ? "Chrome" :
      /Safari\//.test(ua) ? "Safari" : /curl|python|httpx/i.test(ua) ? "Script" : "Browser";
    var os = /Windows/.test(ua) ? "Windows" : /Mac OS X/.test(ua) ? "macOS" : /Android/.test(ua) ? "Android" :
      /iPhone|iPad/.test(ua) ? "iOS" : /Linux/.test(ua) ? "Linux" : "";
    return os ? b + " on " + os : b;
  }

  async function loadSessions() {
    var list = $("#session-list");
    try {
      var sessions = (await api("GET", "/api/auth/list-sessions")).data;
      list.textContent = "";
      sessions.forEach(function (s) {
        var li = el("li", "session-row");
        var main = el("div", "session-main");
        var name = el("strong", null, browserName(s.userAgent));
        if (s.current) name.appendChild(el("span", "badge current-badge", "This device"));
        main.appendChild(name);
        main.appendChild(el("span", "muted", (s.ipAddress || "unknown address") + " · signed in " + when(s.createdAt)));
        li.appendChild(main);
        var btn = el("button", "btn small danger", s.current ? "Sign out" : "Revoke");
        btn.type = "button";
        btn.addEventListener("click", async function () {
          btn.disabled = true;
          try {
            await api("POST", "/api/auth/revoke-session", { id: s.id });
            if (s.current) { window.location = "/login"; return; }
            toast("Session revoked", browserName(s.userAgent), "success");
            loadSessions();
          } catch (err) { btn.disabled = false; toast("Could not revoke", err.message, "error"); }
        });
        li.appendChild(btn);
        list.appendChild(li);
      });
      if (!sessions.length) list.appendChild(el("li", "muted", "No browser sessions (you are using an API token)."));
    } catch (err) {
      list.textContent = "";
      list.appendChild(el("li", "form-error", err.message));
    }
  }

  async function initAccount() {
    var profile = $("#profile-form"), email = $("#email-form"), password = $("#password-form");
    var session = (await api("GET", "/api/auth/get-session")).data;
    if (session) {
      profile.name.value = session.user.name;
      profile.image.value = session.user.image || "";
      email.email.value = session.user.email;
    }

    profile.addEventListener("submit", async function (e) {
      e.preventDefault();
      showError(profile); busy(profile, true);
      try {
        var image = profile.image.value.trim();
        var user = (await api("POST", "/api/auth/update-user", { name: profile.name.value, image: image || null })).data.user;
        profile.name.value = user.name;
        var who = document.querySelector(".who-name");
        if (who) who.textContent = user.name;
        toast("Profile saved", null, "success");
      } catch (err) { showError(profile, err); }
      busy(profile, false);
    });

    email.addEventListener("submit", async function (e) {
      e.preventDefault();
      showError(email); busy(email, true);
      try {
        var user = (await api("POST", "/api/auth/update-user", { email: email.email.value })).data.user;
        email.email.value = user.email;
        toast("Email changed", user.email, "success");
      } catch (err) { showError(email, err); }
      busy(email, false);
    });

    password.addEventListener("submit", async function (e) {
      e.preventDefault();
      showError(password);
      if (password.newPassword.value.length < 8) {
        showError(password, { message: "The new password must be at least 8 characters." });
        return;
      }
      if (password.newPassword.value !== password.confirmPassword.value) {
        showError(password, { message: "The new passwords do not match." });
        return;
      }
      busy(password, true);
      try {
        var result = (await api("POST", "/api/auth/change-password", {
          currentPassword: password.currentPassword.value,
          newPassword: password.newPassword.value,
          revokeOtherSessions: password.revokeOtherSessions.checked,
        })).data;
        password.reset();
        password.revokeOtherSessions.checked = true;
        var note = result.revokedSessions ? result.revokedSessions + " other session(s) signed out" : null;
        toast("Password changed", note, "success");
        loadSessions();
      } catch (err) {
        if (err.errors && err.errors.currentPassword) err = { message: "The current password is not correct." };
        showError(password, err);
      }
      busy(password, false);
    });

    $("#revoke-others").addEventListener("click", async function () {
      try {
        var result = (await api("POST", "/api/auth/revoke-other-sessions")).data;
        toast("Signed out elsewhere", result.revokedSessions + " session(s) revoked", "success");
        loadSessions();
      } catch (err) { toast("Could not revoke", err.message, "error"); }
    });

    loadSessions();
  }

  // ------------------------------------------------------------------ secrets

  function initModal(dialog) {
    dialog.querySelectorAll("[data-close]").forEach(function (b) {
      b.addEventListener("click", function () { dialog.close(); });
    });
  }

  async function loadSecrets() {
    var body = $("#secrets-table tbody");
    try {
      var secrets = (await api("GET", "/api/secrets")).data;
      body.textContent = "";
      if (!secrets.length) {
        var row = el("tr");
        var cell = el("td", "muted empty-row", "No secrets yet. Add an API key or token for your agents.");
        cell.colSpan = 4;
        row.appendChild(cell);
        body.appendChild(row);
      }
      secrets.forEach(function (s) {
        var tr = el("tr");
        tr.dataset.key = s.key;
        var key = el("td"); key.appendChild(el("code", "secret-key", s.key));
        tr.appendChild(key);
        tr.appendChild(el("td", s.description ? null : "muted", s.description || "—"));
        tr.appendChild(el("td", "muted nowrap", when(s.updatedAt)));
        var actions = el("td", "num row-actions");
        var edit = el("button", "btn small", "Edit"); edit.type = "button";
        edit.addEventListener("click", function () { openSecret(s); });
        var del = el("button", "btn small danger", "Delete"); del.type = "button";
        del.addEventListener("click", function () { confirmDelete(s.key); });
        actions.appendChild(edit); actions.appendChild(del);
        tr.appendChild(actions);
        body.appendChild(tr);
      });
    } catch (err) {
      body.textContent = "";
      var tr = el("tr"), td = el("td", "form-error", err.message);
      td.colSpan = 4; tr.appendChild(td); body.appendChild(tr);
    }
  }

  var editing = null;

  function openSecret(secret) {
    var dialog = $("#secret-modal"), form = $("#secret-form");
    editing = secret || null;
    form.reset();
    showError(form);
    $("#secret-modal-title").textContent = secret ? "Edit " + secret.key : "Add secret";
    form.key.value = secret ? secret.key : "";
    form.key.readOnly = !!secret;
    form.value.required = !secret;
    form.value.placeholder = secret ? "•••••••• (unchanged)" : "Paste the secret value";
    form.description.value = secret && secret.description ? secret.description : "";
    form.querySelector("[data-edit-only]").hidden = !secret;
    dialog.showModal();
    (secret ? form.value : form.key).focus();
  }

  function confirmDelete(key) {
    $("#delete-secret-key").textContent = key;
    $("#delete-secret-modal").dataset.key = key;
    $("#delete-secret-modal").showModal();
  }

  function initSecrets() {
    initModal($("#secret-modal"));
    initModal($("#delete-secret-modal"));
    $("#add-secret").addEventListener("click", function () { openSecret(null); });
    var form = $("#secret-form");
    form.key.addEventListener("input", function () {
      var pos = form.key.selectionStart;
      form.key.value = form.key.value.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
      form.key.setSelectionRange(pos, pos);
    });
    form.addEventListener("submit", async function (e) {
      e.preventDefault();
      showError(form); busy(form, true);
      var description = form.description.value.trim();
      try {
        if (editing) {
          var changes = { description: description || null };
          if (form.value.value) changes.value = form.value.value;
          await api("PUT", "/api/secrets/" + encodeURIComponent(editing.key), changes);
        } else {
          // the live notification stream announces the change; the table shows it
          await api("POST", "/api/secrets", {
            key: form.key.value, value: form.value.value, description: description || null,
          });
        }
        form.value.value = "";
        $("#secret-modal").close();
        loadSecrets();
      } catch (err) {
        if (err.status === 409) err = { message: "A secret with this key already exists." };
        showError(form, err);
      }
      busy(form, false);
    });
    $("#confirm-delete-secret").addEventListener("click", async function () {
      var dialog = $("#delete-secret-modal"), key = dialog.dataset.key;
      try {
        await api("DELETE", "/api/secrets/" + encodeURIComponent(key));
        dialog.close();
        loadSecrets();
      } catch (err) { toast("Could not delete", err.message, "error"); }
    });
    loadSecrets();
  }

  // ------------------------------------------------------------------ app preferences

  async function save(patch) {
    var data = (await api("PUT", "/api/settings", patch)).data;
    document.dispatchEvent(new CustomEvent("cognova:settings", { detail: data }));
    return data;
  }

  function fillPrefs(prefs) {
    document.querySelectorAll("[data-pref]").forEach(function (input) {
      var parts = input.dataset.pref.split(".");
      var flags = prefs[parts[0]] || {};
      input.checked = !!flags[parts[1]];
      if (parts[1] !== "enabled") input.disabled = !flags.enabled;
    });
  }

  async function initApp() {
    var settings = (await api("GET", "/api/settings")).data;

    var theme = settings.ui.theme;
    document.querySelectorAll("#theme-options input").forEach(function (radio) {
      radio.checked = radio.value === theme;
      radio.addEventListener("change", async function () {
        window.Cognova.setTheme(radio.value, { local: true });
        try { await save({ ui: { theme: radio.value } }); toast("Theme saved", radio.parentNode.textContent.trim(), "success"); }
        catch (err) { toast("Could not save theme", err.message, "error"); }
      });
    });

    var modelForm = $("#model-form"), modelError = $("#model-error");
    modelForm.model.value = settings.chat.model;
    modelForm.addEventListener("submit", async function (e) {
      e.preventDefault();
      modelError.hidden = true;
      try {
        await save({ chat: { model: modelForm.model.value.trim() } });
        toast("Chat model saved", modelForm.model.value.trim(), "success");
      } catch (err) { modelError.textContent = (err.errors && err.errors["chat.model"]) ? "Model " + err.errors["chat.model"] : err.message; modelError.hidden = false; }
    });

    var hookForm = $("#webhook-form"), hookError = $("#webhook-error"), result = $("#webhook-result");
    hookForm.webhookUrl.value = settings.notifications.webhookUrl || "";
    hookForm.addEventListener("submit", async function (e) {
      e.preventDefault();
      hookError.hidden = true;
      var url = hookForm.webhookUrl.value.trim();
      try {
        await save({ notifications: { webhookUrl: url || null } });
        toast(url ? "Webhook saved" : "Webhook removed", url || null, "success");
      } catch (err) {
        hookError.textContent = err.errors && err.errors["notifications.webhookUrl"]
          ? "Enter an http:// or https:// URL (at most 2048 characters), or leave it empty."
          : err.message;
        hookError.hidden = false;
      }
    });
    $("#test-webhook").addEventListener("click", async function () {
      var btn = this, url = hookForm.webhookUrl.value.trim();
      hookError.hidden = true; result.hidden = true; btn.disabled = true;
      btn.textContent = "Sending…";
      try {
        var r = (await api("POST", "/api/settings/test-webhook", url ? { url: url } : {})).data;
        result.className = "webhook-result " + (r.ok ? "ok" : "bad");
        result.textContent = r.ok
          ? "Delivered: HTTP " + r.status + " in " + r.durationMs + " ms."
          : "Not delivered: " + (r.status ? "HTTP " + r.status : (r.error || "no answer")) + " after " + r.durationMs + " ms.";
        result.hidden = false;
      } catch (err) {
        hookError.textContent = err.errors && err.errors.url ? "Enter a webhook URL first (http or https)." : err.message;
        hookError.hidden = false;
      }
      btn.disabled = false; btn.textContent = "Send test";
    });

    var prefs = settings.notifications.preferences;
    fillPrefs(prefs);
    document.querySelectorAll("[data-pref]").forEach(function (input) {
      input.addEventListener("change", async function () {
        var parts = input.dataset.pref.split(".");
        var patch = { notifications: { preferences: {} } };
        patch.notifications.preferences[parts[0]] = {};
        patch.notifications.preferences[parts[0]][parts[1]] = input.checked;
        try {
          var data = await save(patch);
          prefs = data.notifications.preferences;
          fillPrefs(prefs);
        } catch (err) {
          input.checked = !input.checked;
          toast("Could not save", err.message, "error");
        }
      });
    });
  }

  var tab = page.dataset.tab;
  var start = tab === "secrets" ? initSecrets : tab === "app" ? initApp : initAccount;
  Promise.resolve().then(start).catch(function (err) { toast("Could not load settings", err.message, "error"); });
})();
