/* The event form (templates/scheduling/event_form.html): show only the parts of the repeat
   section that apply; suggest people for address fields from the search endpoint the form
   names in data-people-url. */
(function () {
  "use strict";
  var form = document.querySelector(".event-form");
  if (!form) { return; }
  function checked(name) { var el = form.querySelector("input[name='" + name + "']:checked"); return el ? el.value : ""; }
  function show(selector, on) { form.querySelectorAll(selector).forEach(function (el) { el.hidden = !on; }); }
  function sync() {
    var repeat = checked("repeat"), ends = checked("ends");
    show(".repeat-details", !!repeat);
    show(".for-weekly", repeat === "WEEKLY");
    show(".for-monthly", repeat === "MONTHLY");
    show(".for-until", ends === "until");
    show(".for-count", ends !== "until");
    var program = form.querySelector("input[name='is_program']");
    show(".for-program", program && program.checked);
  }
  form.addEventListener("change", sync);
  sync();

  var url = form.getAttribute("data-people-url");
  form.querySelectorAll("textarea.emails").forEach(function (area) {
    var box = document.createElement("ul");
    box.className = "suggest"; box.hidden = true; box.setAttribute("role", "listbox");
    area.parentNode.insertBefore(box, area.nextSibling);
    var timer = null, seq = 0;
    function currentLine() {
      var upto = area.value.slice(0, area.selectionStart);
      var start = Math.max(upto.lastIndexOf("\n"), upto.lastIndexOf(","), upto.lastIndexOf(";")) + 1;
      var rest = area.value.slice(area.selectionStart);
      var endRel = rest.search(/[\n,;]/);
      var end = endRel < 0 ? area.value.length : area.selectionStart + endRel;
      return {start: start, end: end, text: area.value.slice(start, end).trim()};
    }
    area.addEventListener("input", function () {
      clearTimeout(timer);
      var line = currentLine();
      if (line.text.length < 2 || line.text.indexOf("@") >= 0) { box.hidden = true; return; }
      timer = setTimeout(function () {
        var mine = ++seq;
        fetch(url + "?q=" + encodeURIComponent(line.text), {credentials: "same-origin", headers: {"Accept": "application/json"}})
          .then(function (r) { return r.ok ? r.json() : {people: []}; })
          .then(function (data) {
            if (mine !== seq) { return; }
            box.innerHTML = "";
            data.people.forEach(function (p) {
              var li = document.createElement("li");
              li.textContent = p.name + " — " + p.organisation + " <" + p.email + ">";
              li.setAttribute("role", "option");
              li.addEventListener("mousedown", function (ev) {
                ev.preventDefault();
                var l = currentLine();
                area.value = area.value.slice(0, l.start) + (l.start ? " " : "") + p.email + area.value.slice(l.end);
                box.hidden = true; area.focus();
              });
              box.appendChild(li);
            });
            box.hidden = data.people.length === 0;
          });
      }, 250);
    });
    area.addEventListener("blur", function () { setTimeout(function () { box.hidden = true; }, 150); });
  });
})();
