// The pollbook's few behaviours, kept out of the pages (CSP: script-src 'self').
(function () {
  "use strict";
  // Print the ballot slip.
  var print = document.getElementById("print-slip");
  if (print) print.addEventListener("click", function () { window.print(); });

  // A keyboard-wedge scanner types a licence's PDF417 text followed by
  // Enter after every data element. In the search box, an Enter inside a
  // scan becomes a record separator; the search runs once the scanner
  // stops typing.
  var q = document.getElementById("q");
  if (q && q.form) {
    var timer = null;
    var isScan = function () { return /^@|ANSI |AAMVA/.test(q.value); };
    q.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && isScan()) {
        e.preventDefault();
        q.value += "\u001e";
        clearTimeout(timer);
        timer = setTimeout(function () { q.form.submit(); }, 400);
      }
    });
    q.addEventListener("input", function () {
      if (timer && isScan()) {
        clearTimeout(timer);
        timer = setTimeout(function () { q.form.submit(); }, 400);
      }
    });
  }

  // Live turnout over server-sent events.
  var box = document.getElementById("turnout");
  if (box && box.dataset.stream && window.EventSource) {
    var live = document.getElementById("t-live");
    var es = new EventSource(box.dataset.stream);
    var set = function (id, v) { var e = document.getElementById(id); if (e) e.textContent = v; };
    var rows = function (id, list, cols) {
      var tb = document.querySelector("#" + id + " tbody");
      if (!tb) return;
      tb.textContent = "";
      (list || []).forEach(function (r) {
        var tr = document.createElement("tr");
        cols.forEach(function (c) { var td = document.createElement("td"); td.textContent = r[c] === undefined ? "" : r[c]; tr.appendChild(td); });
        tb.appendChild(tr);
      });
    };
    es.addEventListener("turnout", function (ev) {
      var t = JSON.parse(ev.data);
      set("t-total", t.total); set("t-mail", t.mail); set("t-provisional", t.provisional);
      set("t-refused", t.refused); set("t-rate", t.per_minute);
      rows("by-place", t.by_place, ["name", "count", "registered", "percent"]);
      rows("by-hour", t.by_hour, ["key", "count"]);
      rows("by-precinct", t.by_precinct, ["name", "count", "registered", "percent"]);
      if (live) live.textContent = "live · updated " + new Date().toLocaleTimeString();
    });
    es.onerror = function () { if (live) live.textContent = "reconnecting…"; };
  }
})();
