/* Ask before a weighty action: a form or a button with data-confirm="question" goes ahead
   only when the person says OK. Loaded on every page by templates/base.html (the CSP allows
   no inline onsubmit/onclick handlers). */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("button[data-confirm], input[data-confirm], a[data-confirm]") : null;
    if (target && !window.confirm(target.getAttribute("data-confirm"))) { event.preventDefault(); }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-confirm") && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
})();
