// The organiser dashboard's behaviour (no inline scripts: the Content-Security-Policy
// forbids them). Everything here is an enhancement: each action is a plain form too.
(function () {
  "use strict";

  // Forms that change something for good ask first.
  document.addEventListener("submit", function (e) {
    var form = e.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.getAttribute("data-confirm"))) { e.preventDefault(); e.stopImmediatePropagation(); }
  }, true);

  // --- Reordering ticket definitions -------------------------------------------------
  // By keyboard: the Move up / Move down buttons (htmx swaps the list); focus stays on the
  // button that was pressed (or its twin when the ticket reached the top or the bottom).
  var focusedId = null;
  document.addEventListener("htmx:beforeRequest", function () {
    focusedId = document.activeElement && document.activeElement.id ? document.activeElement.id : null;
  });
  document.addEventListener("htmx:afterSwap", function () {
    if (!focusedId) return;
    var el = document.getElementById(focusedId);
    if (el && el.disabled) {
      var twin = focusedId.indexOf("up-") === 0 ? "down-" + focusedId.slice(3) : "up-" + focusedId.slice(5);
      el = document.getElementById(twin);
    }
    if (el && !el.disabled) el.focus();
    focusedId = null;
  });

  // By drag and drop (HTML5): dropping on the upper half of a ticket puts the dragged one
  // before it, on the lower half after it; the server's Reorder decides and sends the list.
  var dragged = null;
  function itemOf(el) { return el && el.closest ? el.closest("#definitions li.definition") : null; }
  function clearMarks() {
    document.querySelectorAll("#definitions .drop-before, #definitions .drop-after").forEach(function (li) {
      li.classList.remove("drop-before", "drop-after");
    });
  }
  function below(li, e) { var r = li.getBoundingClientRect(); return e.clientY > r.top + r.height / 2; }
  document.addEventListener("dragstart", function (e) {
    var li = itemOf(e.target);
    if (!li) return;
    dragged = li;
    li.classList.add("dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", li.getAttribute("data-id"));
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    clearMarks();
  });
  document.addEventListener("dragover", function (e) {
    var li = itemOf(e.target);
    if (!dragged || !li || li === dragged) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    clearMarks();
    li.classList.add(below(li, e) ? "drop-after" : "drop-before");
  });
  document.addEventListener("drop", function (e) {
    var li = itemOf(e.target);
    if (!dragged || !li || li === dragged) return;
    e.preventDefault();
    var list = document.getElementById("definitions");
    var id = dragged.getAttribute("data-id");
    var values = {};
    values[below(li, e) ? "after" : "before"] = li.getAttribute("data-id");
    clearMarks();
    window.htmx.ajax("POST", list.getAttribute("data-move-url") + encodeURIComponent(id) + "/move",
      { source: list, target: "#definitions", swap: "outerHTML", values: values });
  });

  // --- Live sales ------------------------------------------------------------------
  // One EventSource per ticket definition on the public live stream (the live counter's
  // protocol: {"ticketDefinitionId", "unsoldCount", "soldOut"} at once and on each
  // change); a change redraws the sales table (sold, reserved, revenue) from the server.
  var MAX_STREAMS = 20;
  function startLive(section) {
    var site = section.getAttribute("data-site");
    var ids = (section.getAttribute("data-definitions") || "").split(",").filter(Boolean).slice(0, MAX_STREAMS);
    var state = section.querySelector("[data-live-state]");
    var last = {};
    var timer = null;
    var open = 0;
    function say(text) { if (state) state.textContent = text; }
    function refresh() {
      clearTimeout(timer);
      timer = setTimeout(function () {
        window.htmx.ajax("GET", section.getAttribute("data-refresh"), { source: section, target: "#sales-table", swap: "outerHTML" });
      }, 250);
    }
    // The stream announces seats left; a reservation becoming a sale (or a refund) leaves
    // that count as it was, so the table is also redrawn every 15 s while it is in view.
    setInterval(function () { if (document.visibilityState === "visible") refresh(); }, 15000);
    if (!ids.length || !window.EventSource) { say(""); return; }
    ids.forEach(function (id) {
      var es = new EventSource("/boxoffice/v1/live/" + encodeURIComponent(site) + "/ticket-definitions/" + encodeURIComponent(id));
      es.onopen = function () { open += 1; say("Live updates: on"); };
      es.onerror = function () { open = Math.max(0, open - 1); if (!open) say("Live updates: reconnecting…"); };
      es.onmessage = function (m) {
        var msg;
        try { msg = JSON.parse(m.data); } catch (err) { return; }
        var key = String(msg.unsoldCount) + "/" + String(msg.soldOut);
        if (id in last && last[id] !== key) refresh();
        last[id] = key;
        section.setAttribute("data-updates", String(Number(section.getAttribute("data-updates") || "0") + 1));
      };
      window.addEventListener("pagehide", function () { es.close(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var live = document.getElementById("sales-live");
    if (live) startLive(live);
  });
})();
