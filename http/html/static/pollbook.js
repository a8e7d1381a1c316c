// The pollbook's few behaviours, kept out of the pages (CSP: script-src 'self').
(function () {
  "use strict";
  // The tablet's own clock goes with each check-in: detection compares it
  // with the server's to find a pollbook whose clock is off.
  var checkinForm = document.getElementById("checkin-form");
  if (checkinForm) checkinForm.addEventListener("submit", function () {
    var t = document.getElementById("device-time");
    if (t) t.value = new Date().toISOString();
  });

  // Print the ballot slip.
  var print = document.getElementById("print-slip");
  if (print) print.addEventListener("click", function () { window.print(); });

  // A keyboard-wedge scanner types a licence's PDF417 text with an Enter
  // after every data element. In the search box an Enter inside a scan
  // becomes a record separator instead of submitting, and once the scan holds a
  // name and a birth date, the search runs (as a POST: the text holds the
  // licence number, which must stay out of URLs and the tablet's history)
  // as soon as the scanner pauses after an Enter. A partial scan is never
  // sent on its own; the Search button sends whatever is there.
  var q = document.getElementById("q");
  if (q && q.form) {
    var timer = null, sent = false;
    var isScan = function () { return /^@|ANSI |AAMVA/.test(q.value); };
    var complete = function () { return /DCS/.test(q.value) && /DBB\d{8}\u001e/.test(q.value) && /DAC|DCT|DAA/.test(q.value); };
    var submitScan = function () {
      if (sent) return;
      sent = true;
      var f = q.form, t = document.createElement("input");
      t.type = "hidden"; t.name = "csrf"; t.value = f.dataset.csrf || "";
      f.appendChild(t);
      f.method = "post";
      f.submit();
    };
    var wait = function () {
      clearTimeout(timer);
      timer = complete() ? setTimeout(submitScan, 300) : null;
    };
    var clicked = false;
    q.addEventListener("keydown", function (e) {
      if (sent) { e.preventDefault(); return; }
      if (e.key === "Enter" && isScan()) {
        e.preventDefault();
        // Keep the element boundary: a record separator at the caret.
        q.setRangeText("\u001e", q.selectionStart, q.selectionEnd, "end");
        wait();
      }
    });
    // Some keyboards (and test drivers) still send the Enter's keypress,
    // which submits the form implicitly: the submit handler below waits too.
    q.addEventListener("keypress", function (e) {
      if (e.key === "Enter" && isScan()) e.preventDefault();
    });
    q.addEventListener("input", function () {
      clearTimeout(timer); // more is coming: wait for its Enter
      timer = null;
    });
    var button = q.form.querySelector('button[type="submit"]');
    if (button) button.addEventListener("click", function () { clicked = true; });
    q.form.addEventListener("submit", function (e) {
      if (!isScan() || q.form.method === "post") return;
      e.preventDefault();
      if (clicked) { submitScan(); } else { wait(); }
      clicked = false;
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
      rows("sites", t.sites, ["name", "place", "link", "last_heard", "merged", "conflicts", "refused"]);
      if (live) live.textContent = "live · updated " + new Date().toLocaleTimeString();
    });
    es.onerror = function () { if (live) live.textContent = "reconnecting…"; };
  }
})();
