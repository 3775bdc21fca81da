// Small behaviours for the staff pages; everything works without this file, only less conveniently.
(function () {
  "use strict";

  // <button data-confirm="停用账号？"> and <form data-confirm="…"> ask before submitting.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var question = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  }, true);

  document.addEventListener("click", function (event) {
    var target = event.target;
    // <a data-confirm="…"> likewise.
    var link = target.closest("a[data-confirm]");
    if (link && !window.confirm(link.getAttribute("data-confirm"))) {
      event.preventDefault();
      return;
    }
    // A table row with data-href opens it, unless the click was on a link, button or field inside the row.
    var row = target.closest("tr[data-href]");
    if (row && !target.closest("a, button, input, select, textarea, label")) {
      if (window.getSelection && String(window.getSelection())) return;  // selecting text, not navigating
      if (event.ctrlKey || event.metaKey) {
        window.open(row.getAttribute("data-href"), "_blank");
      } else {
        window.location.href = row.getAttribute("data-href");
      }
    }
    // The collapsed menu on narrow screens.
    if (target.closest("[data-menu-toggle]")) {
      document.body.classList.toggle("menu-open");
    } else if (target.closest("[data-menu-close]")) {
      document.body.classList.remove("menu-open");
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") document.body.classList.remove("menu-open");
  });

  // <select data-autosubmit> (the unit picker) submits its form when changed.
  document.addEventListener("change", function (event) {
    var select = event.target.closest("[data-autosubmit]");
    if (!select || !select.form) return;
    // The own unit is the default: leave the address clean instead of "?unit=".
    if (select.value === "" && select.name === "unit") {
      window.location.href = select.form.getAttribute("action") || window.location.pathname;
    } else {
      select.form.submit();
    }
  });
})();
