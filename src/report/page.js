// Fills the summary from the embedded data and wires the object filter. Reads text only through
// textContent and writes it only through textContent: nothing from the logs becomes markup.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  function set(id, value) {
    var el = document.getElementById(id);
    if (el) { el.textContent = String(value); }
  }
  ["created", "updated", "disabled", "deleted", "skipped", "failed"].forEach(function (key) {
    set("count-" + key, data.totals[key]);
  });
  set("count-entries", data.entries);
  set("count-cycles", data.cycles);

  var objects = Array.prototype.slice.call(document.querySelectorAll("details.obj"));
  var filter = document.getElementById("filter");
  var status = document.getElementById("status-filter");
  var shown = document.getElementById("shown");
  function apply() {
    var query = filter.value.trim().toLowerCase();
    var wanted = status.value;
    var count = 0;
    objects.forEach(function (d) {
      var ok = (!query || d.getAttribute("data-key").indexOf(query) >= 0) &&
        (!wanted || d.getAttribute("data-status") === wanted);
      d.hidden = !ok;
      if (ok) { count += 1; }
    });
    shown.textContent = count + " of " + objects.length + " shown";
  }
  function openAll(open) {
    objects.forEach(function (d) { if (!d.hidden) { d.open = open; } });
  }
  filter.addEventListener("input", apply);
  status.addEventListener("change", apply);
  document.getElementById("expand").addEventListener("click", function () { openAll(true); });
  document.getElementById("collapse").addEventListener("click", function () { openAll(false); });
  apply();
  document.body.setAttribute("data-rendered", "yes");
}());
