// The seed ceremony, live: follows the audit's seed stream (server-sent
// events) and shows each die as the audit administrator enters it.
(function () {
  "use strict";
  var box = document.getElementById("ceremony");
  if (!box || !box.dataset.stream || !window.EventSource) return;
  var digits = document.getElementById("seed-digits");
  var count = document.getElementById("seed-count");
  var final = document.getElementById("seed-final");
  var live = document.getElementById("seed-live");
  var shown = (digits.textContent || "").trim().length;
  if (box.dataset.final) return; // the ceremony is over: nothing more will come
  var es = new EventSource(box.dataset.stream + "?after=" + shown);
  // A page left for another (each digit the administrator enters loads
  // the page anew) must give its connection back, or the browser's few
  // connections per host run out while pages wait in the back/forward cache.
  window.addEventListener("pagehide", function () { es.close(); });
  es.addEventListener("digit", function (m) {
    var d;
    try { d = JSON.parse(m.data); } catch (e) { return; }
    if (d.index <= shown) return;
    shown = d.index;
    digits.textContent += String(d.digit);
    count.textContent = String(shown);
    live.textContent = "Die " + d.index + ": " + d.digit;
  });
  es.addEventListener("seed", function (m) {
    var s;
    try { s = JSON.parse(m.data); } catch (e) { return; }
    final.textContent = s.seed;
    live.textContent = "The seed is final.";
    es.close();
  });
  es.onerror = function () { live.textContent = "Live updates paused; reconnecting…"; };
})();
