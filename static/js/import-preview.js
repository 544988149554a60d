/* The import preview (templates/directory/import_preview.html): the Import button waits for
   "import only the valid rows" to be ticked when some rows are bad. */
(function () {
  "use strict";
  var box = document.getElementById("only-valid"), button = document.getElementById("import-button");
  if (box && button) { box.addEventListener("change", function () { button.disabled = !box.checked; }); }
})();
