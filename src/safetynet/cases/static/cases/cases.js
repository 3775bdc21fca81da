// The intake screen: picking an enterprise from the suggestions, and re-checking for duplicate calls.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-enterprise-id]");
    if (!button) return;
    event.preventDefault();
    var form = button.closest("form");
    form.querySelector("[name=enterprise]").value = button.getAttribute("data-enterprise-id");
    form.querySelector("[name=enterprise_query]").value = button.getAttribute("data-enterprise-name");
    var chosen = form.querySelector("#chosen-enterprise");
    if (chosen) chosen.textContent = "已选择：" + button.getAttribute("data-enterprise-label");
    var list = form.querySelector("#enterprise-suggestions");
    if (list) list.innerHTML = "";
    if (window.htmx) window.htmx.trigger(form.querySelector("#duplicate-check"), "recheck");
  });
  document.addEventListener("input", function (event) {
    // Typing a new name forgets the enterprise picked before.
    if (event.target.name !== "enterprise_query") return;
    var form = event.target.closest("form");
    form.querySelector("[name=enterprise]").value = "";
    var chosen = form.querySelector("#chosen-enterprise");
    if (chosen) chosen.textContent = "";
  });
})();
