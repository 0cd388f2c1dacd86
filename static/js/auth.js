/* Sign-in and sign-up forms. */
(function () {
  "use strict";

  function bind(formId, path, payload, done) {
    var form = document.getElementById(formId);
    if (!form) return;
    var error = form.querySelector(".form-error");
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      error.hidden = true;
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        await Cognova.api("POST", path, payload(new FormData(form)));
        done(form);
      } catch (err) {
        var details = Object.values(err.errors || {});
        error.textContent = err.message + (details.length ? ": " + details.join(", ") : "");
        if (err.status === 429) error.textContent = "Too many failed attempts. Try again later.";
        error.hidden = false;
        button.disabled = false;
      }
    });
  }

  bind("login-form", "/api/auth/sign-in/email",
    function (d) { return { email: d.get("email"), password: d.get("password") }; },
    function (form) { window.location = form.dataset.redirect || "/"; });

  bind("signup-form", "/api/auth/sign-up/email",
    function (d) { return { name: d.get("name"), email: d.get("email"), password: d.get("password") }; },
    function () { window.location = "/"; });
})();
