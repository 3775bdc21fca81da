// The import form (<form data-import-upload>): checks the chosen file before it is sent (type, size, empty)
// and says what is wrong at once, instead of after a long upload. The server checks again; this is only a
// convenience. The limit comes from the file input's data-max-bytes / data-max-mb.
(function () {
  "use strict";

  function problem(file, maxBytes, maxMb) {
    if (!file) { return "请选择要上传的文件。"; }
    var name = file.name.toLowerCase();
    if (/\.xls$/.test(name)) { return "文件“" + file.name + "”是旧版 Excel 97-2003（.xls）文件，请在 Excel 中“另存为”Excel 工作簿（.xlsx）或 CSV UTF-8 后再上传。"; }
    if (!/\.(csv|xlsx)$/.test(name)) { return "文件“" + file.name + "”不是 CSV 或 XLSX 文件，只能上传扩展名为 .csv 或 .xlsx 的文件。"; }
    if (file.size === 0) { return "文件“" + file.name + "”是空的（0 字节），请检查是否选错了文件。"; }
    if (file.size > maxBytes) { return "文件“" + file.name + "”有 " + (file.size / 1048576).toFixed(1) + " MB，超过了 " + maxMb + " MB 的上限。请把数据分成几个文件分别导入。"; }
    return "";
  }

  function setUp(form) {
    var input = form.querySelector("input[type=file]");
    var box = form.querySelector("[data-upload-error]");
    var button = form.querySelector("[data-upload-submit]");
    if (!input || !box || !button) { return; }
    var maxBytes = parseInt(input.dataset.maxBytes, 10);
    var maxMb = input.dataset.maxMb;
    var uploading = button.getAttribute("data-uploading") || "正在上传…";

    function show(message) {
      box.textContent = message;
      box.hidden = !message;
      box.classList.toggle("errorlist", !!message);
      var field = input.closest(".field");
      if (field) { field.classList.toggle("has-error", !!message); }
    }

    input.addEventListener("change", function () { show(problem(input.files[0], maxBytes, maxMb)); });
    // A file chosen before this script ran (a slow page) gets its check too.
    if (input.files.length) { show(problem(input.files[0], maxBytes, maxMb)); }
    form.addEventListener("submit", function (event) {
      var message = problem(input.files[0], maxBytes, maxMb);
      if (message) { event.preventDefault(); show(message); return; }
      button.disabled = true;
      button.textContent = uploading;
    });
  }

  function start() { document.querySelectorAll("form[data-import-upload]").forEach(setUp); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
})();
