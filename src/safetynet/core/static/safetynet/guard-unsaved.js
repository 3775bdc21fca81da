// Forms marked <form data-guard-unsaved>: leaving the page (a link in .form-actions, closing the tab) after
// changing a field asks first, so what was typed is not lost silently. The question comes from the
// data-question attribute of this <script> element, translated by the template.
(function () {
  "use strict";
  var script = document.currentScript;
  var question = (script && script.getAttribute("data-question")) || "放弃尚未保存的修改？";

  function guard(form) {
    var dirty = false;
    form.addEventListener("input", function () { dirty = true; });
    form.addEventListener("change", function () { dirty = true; });
    form.addEventListener("submit", function () { dirty = false; });
    form.querySelectorAll(".form-actions a").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (dirty && !window.confirm(question)) { event.preventDefault(); }
        else { dirty = false; }
      });
    });
    window.addEventListener("beforeunload", function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = ""; }
    });
  }

  function start() { document.querySelectorAll("form[data-guard-unsaved]").forEach(guard); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
})();
