// Live alerts: follows /alerts/stream (server-sent events) and updates the
// page. New alerts are added with their summary; the forms to acknowledge
// and resolve come with a reload (they carry the page's CSRF token).
(function () {
  "use strict";
  var live = document.getElementById("live");
  var list = document.getElementById("alerts");
  if (!live || !list || !window.EventSource) return;
  var es = new EventSource("/alerts/stream?since=" + encodeURIComponent(live.dataset.since || "0"));
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }
  es.addEventListener("alert", function (m) {
    var a;
    try { a = JSON.parse(m.data); } catch (e) { return; }
    var card = document.getElementById("alert-" + a.id);
    if (card) {
      var st = card.querySelector(".status");
      if (st) st.textContent = a.status;
      live.textContent = "Alert “" + a.title + "” is now " + a.status + ".";
      return;
    }
    var none = document.getElementById("no-alerts");
    if (none) none.remove();
    card = el("article", "card alert new sev-" + a.severity);
    card.id = "alert-" + a.id;
    var h = el("h2");
    h.appendChild(el("span", "sev", a.severity));
    h.appendChild(document.createTextNode(" " + a.title));
    card.appendChild(h);
    card.appendChild(el("p", "", a.summary));
    var p = el("p", "hint", "Rule " + a.rule + (a.group ? " · " + a.group : "") + " · " + (a.evidence || []).length + " events of evidence. ");
    var link = el("a", "", "Reload to act on it");
    link.href = "/alerts";
    p.appendChild(link);
    card.appendChild(p);
    var s = el("p", "", "Status: ");
    s.appendChild(el("strong", "status", a.status));
    card.appendChild(s);
    list.insertBefore(card, list.firstChild);
    live.textContent = "New " + a.severity + " alert: " + a.title;
  });
  es.onerror = function () { live.textContent = "Live updates paused; reconnecting…"; };
  es.onopen = function () { if (live.textContent.indexOf("paused") >= 0) live.textContent = ""; };
})();
