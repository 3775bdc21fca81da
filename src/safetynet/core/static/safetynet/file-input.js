// The labelled upload control (templates/includes/file_input.html, <div data-file-input>): the browser's
// own file input is hidden but stays focusable (Tab reaches it, Enter or Space opens the chooser, its field
// label names it); the button "选择文件" is its label, and the chosen files are named in Chinese:
// "未选择文件", "已选择：名册.xlsx", "已选择 3 个文件：a.jpg、b.png、c.pdf". Files dropped on the control are
// taken as if chosen. The texts come from the data- attributes, so they follow the page's language.
(function () {
  "use strict";
  // The include loads this file once per file field: the second time there is nothing left to do.
  if (window.safetynetFileInput) { return; }
  window.safetynetFileInput = true;

  function chosenText(box, input) {
    var files = input.files ? Array.prototype.slice.call(input.files) : [];
    if (!files.length) { return { text: box.getAttribute("data-none") || "未选择文件", chosen: false }; }
    var names = files.map(function (file) { return file.name; }).join("、");
    if (files.length === 1) { return { text: (box.getAttribute("data-chosen") || "已选择：") + names, chosen: true }; }
    var many = box.getAttribute("data-chosen-many") || "已选择 {count} 个文件：";
    return { text: many.replace("{count}", String(files.length)) + names, chosen: true };
  }

  function setUp(box) {
    if (box.getAttribute("data-file-ready")) { return; }
    var input = box.querySelector("input[type=file]");
    var name = box.querySelector("[data-file-name]");
    if (!input || !name) { return; }
    box.setAttribute("data-file-ready", "1");
    // Screen readers read the chosen files after the field's own label.
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (name.id && described.indexOf(name.id) < 0) {
      described.push(name.id);
      input.setAttribute("aria-describedby", described.join(" "));
    }

    function update() {
      var state = chosenText(box, input);
      name.textContent = state.text;
      name.title = state.chosen ? state.text : "";
      box.classList.toggle("is-chosen", state.chosen);
    }

    input.addEventListener("change", update);
    if (input.form) {
      // After a reset the input is empty again (the event comes before the reset is done).
      input.form.addEventListener("reset", function () { window.setTimeout(update, 0); });
    }
    box.addEventListener("dragover", function (event) {
      if (!event.dataTransfer || Array.prototype.indexOf.call(event.dataTransfer.types || [], "Files") < 0) { return; }
      event.preventDefault();
      box.classList.add("is-dragover");
    });
    box.addEventListener("dragleave", function () { box.classList.remove("is-dragover"); });
    box.addEventListener("drop", function (event) {
      box.classList.remove("is-dragover");
      var dropped = event.dataTransfer && event.dataTransfer.files;
      if (!dropped || !dropped.length) { return; }
      event.preventDefault();
      if (!input.multiple && dropped.length > 1 && typeof DataTransfer === "function") {
        var first = new DataTransfer();
        first.items.add(dropped[0]);
        dropped = first.files;
      }
      input.files = dropped;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
    update();  // a file the browser kept (back button) is named too
  }

  function scan(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("[data-file-input]")) { setUp(scope); }
    Array.prototype.forEach.call(scope.querySelectorAll("[data-file-input]"), setUp);
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", function () { scan(document); }); }
  else { scan(document); }
  // Forms that htmx swaps in later.
  document.addEventListener("htmx:load", function (event) { scan(event.target); });
})();
