// Live tables: follows the server-sent events named by #live-view's
// data-stream and data-event, and refills every table inside it that has a
// data-field (the event's list to show) and data-columns (the fields of each
// row, in order). A row whose "flagged" is true is marked as a discrepancy.
(function () {
  "use strict";
  var box = document.getElementById("live-view");
  if (!box || !box.dataset.stream || !window.EventSource) return;
  var status = document.getElementById("live-status");
  var es = new EventSource(box.dataset.stream);
  es.addEventListener(box.dataset.event || "message", function (m) {
    var v;
    try { v = JSON.parse(m.data); } catch (e) { return; }
    box.querySelectorAll("table[data-field]").forEach(function (t) {
      var tb = t.querySelector("tbody");
      var cols = (t.dataset.columns || "").split(" ");
      tb.textContent = "";
      (v[t.dataset.field] || []).forEach(function (r) {
        var tr = document.createElement("tr");
        if (r.flagged) tr.className = "warn";
        cols.forEach(function (c, i) {
          var td = document.createElement("td");
          // JSON leaves out zero counts (omitempty): show them as 0.
          td.textContent = r[c] === undefined ? (i === 0 ? "" : "0") : r[c];
          if (r.flagged && i === cols.length - 1) {
            var s = document.createElement("strong");
            s.textContent = " discrepancy";
            td.appendChild(s);
          }
          tr.appendChild(td);
        });
        tb.appendChild(tr);
      });
    });
    var f = document.getElementById("rec-flagged");
    if (f && v.flagged !== undefined) f.textContent = v.flagged;
    if (status) status.textContent = "live · updated " + new Date().toLocaleTimeString();
  });
  es.onerror = function () { if (status) status.textContent = "reconnecting…"; };
})();
