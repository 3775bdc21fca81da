// <a data-history-back href="…">返回上一页</a>: goes back in the browser's history when there is a page to
// go back to, else follows its href (the dashboard). Used by the error pages, which allow no inline script.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-history-back]");
    if (!link || window.history.length <= 1) { return; }
    event.preventDefault();
    window.history.back();
  });
})();
