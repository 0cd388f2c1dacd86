/* The public view page: copy the note's source, show local dates. */
(function () {
  "use strict";
  var copy = document.querySelector('[data-view="copy"]');
  if (copy) {
    copy.addEventListener("click", function () {
      var text = document.getElementById("view-source").value;
      var done = function () { copy.textContent = "Copied"; setTimeout(function () { copy.textContent = "Copy"; }, 1500); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done);
      } else {
        var area = document.getElementById("view-source");
        area.select();
        document.execCommand("copy");
        done();
      }
    });
  }
  document.querySelectorAll('[data-view="time"]').forEach(function (el) {
    var d = new Date(el.getAttribute("datetime"));
    if (!isNaN(d)) el.textContent = d.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
  });
})();
