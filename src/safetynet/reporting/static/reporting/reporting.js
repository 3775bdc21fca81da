// The form designer: "添加一行" adds an empty field row (no inline script: driven by data- attributes).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-designer-add]");
    if (!button) return;
    event.preventDefault();
    var form = button.closest("[data-designer]");
    var rows = form.querySelector("[data-designer-rows]");
    var template = form.querySelector("template[data-designer-template]");
    var next = rows.querySelectorAll("tr").length + 1;
    while (form.querySelector('[name="field-' + next + '-label"]')) next += 1;
    var html = template.innerHTML.split("__N__").join(String(next));
    rows.insertAdjacentHTML("beforeend", html);
    var label = rows.querySelector('[name="field-' + next + '-label"]');
    if (label) label.focus();
  });
})();
