/* The network form (templates/directory/network_form.html): offer only the chosen
   organisation's coordinators (the server checks this too). */
(function () {
  "use strict";
  function sync(row, pickOnly) {
    var org = row.querySelector(".member-org").value;
    var select = row.querySelector(".member-coordinator");
    var groups = select.querySelectorAll("optgroup");
    var visible = [];
    groups.forEach(function (g) {
      var show = !org || g.getAttribute("data-org") === org;
      g.hidden = !show; g.disabled = !show;
      if (show) { visible = visible.concat(Array.prototype.slice.call(g.querySelectorAll("option"))); }
    });
    var chosen = select.options[select.selectedIndex];
    if (chosen && chosen.value && chosen.parentNode.disabled) { select.value = ""; }
    if (pickOnly && org && !select.value && visible.length === 1) { select.value = visible[0].value; }
  }
  document.querySelectorAll(".member-row").forEach(function (row) {
    sync(row, false);
    row.querySelector(".member-org").addEventListener("change", function () { sync(row, true); });
  });
})();
