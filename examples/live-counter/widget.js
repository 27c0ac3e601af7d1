/*
 * Boxoffice live ticket counter: "Only 3 tickets left at this price".
 *
 * Embed (no build step, no framework, no dependencies):
 *
 *   <script src="widget.js"
 *           data-base-url="https://tickets.example.com"
 *           data-site-id="my-site"
 *           data-ticket-definition-id="TD_ID"
 *           data-price="$200"></script>
 *
 * The counter is inserted right after the script tag (or into the element whose id is
 * given in data-target). A tag without data-ticket-definition-id (like the demo page's) reads
 * the settings it lacks from the page URL's query string, under the same names:
 * ?baseUrl=...&siteId=...&ticketDefinitionId=...&price=...
 * Optional: data-low-threshold (default 10): at or below it the text reads "Only N ...".
 *
 * Or from code: BoxofficeLiveCounter.mount(element, {baseUrl, siteId, ticketDefinitionId, price}).
 *
 * It opens one EventSource to GET {baseUrl}/boxoffice/v1/live/{siteId}/ticket-definitions/{id}
 * (public, CORS *), which sends {"ticketDefinitionId", "unsoldCount", "soldOut"} at once and
 * on every change. No polling: when the connection drops, EventSource reconnects by itself
 * and the server sends the current count again. A refused stream (404, or 503 when the
 * server has all the live streams it takes open) is tried again a few times, later and later.
 */
(function () {
  "use strict";

  var MAX_RETRIES = 5; // a refused stream (404, 503) is tried again this many times
  var SETTINGS = ["baseUrl", "siteId", "ticketDefinitionId", "price", "lowThreshold", "target"];
  var CSS =
    ".bo-live-counter{font:15px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,'Liberation Sans',sans-serif;" +
    "display:inline-flex;align-items:center;gap:.6em;padding:.45em .8em;border-radius:.5em;" +
    "border:1px solid #d0d7de;background:#f6f8fa;color:#1f2328}" +
    ".bo-live-counter .bo-price{font-weight:700}" +
    ".bo-live-counter .bo-dot{width:.55em;height:.55em;border-radius:50%;background:#8c959f;flex:none}" +
    ".bo-live-counter[data-state=available] .bo-dot,.bo-live-counter[data-state=unlimited] .bo-dot{background:#1a7f37}" +
    ".bo-live-counter[data-state=low]{border-color:#d4a72c;background:#fff8c5}" +
    ".bo-live-counter[data-state=low] .bo-dot{background:#bf8700}" +
    ".bo-live-counter[data-state=soldout]{border-color:#ff8182;background:#ffebe9}" +
    ".bo-live-counter[data-state=soldout] .bo-dot{background:#cf222e}" +
    ".bo-live-counter[data-stale] .bo-text{opacity:.6}";

  function addStyle() {
    if (document.getElementById("bo-live-counter-style")) return;
    var style = document.createElement("style");
    style.id = "bo-live-counter-style";
    style.textContent = CSS;
    (document.head || document.documentElement).appendChild(style);
  }

  function streamUrl(opts) {
    return (
      String(opts.baseUrl).replace(/\/+$/, "") +
      "/boxoffice/v1/live/" + encodeURIComponent(opts.siteId) +
      "/ticket-definitions/" + encodeURIComponent(opts.ticketDefinitionId)
    );
  }

  // The words for one message from the stream.
  function describe(msg, opts) {
    var n = msg.unsoldCount;
    var atPrice = opts.price ? " at this price" : "";
    if (msg.soldOut || n === 0) return { state: "soldout", text: "Sold out" };
    if (n === null || n === undefined) return { state: "unlimited", text: "Tickets available" };
    var noun = n === 1 ? "ticket" : "tickets";
    if (n <= opts.lowThreshold) return { state: "low", text: "Only " + n + " " + noun + " left" + atPrice };
    return { state: "available", text: n + " " + noun + " left" + atPrice };
  }

  function mount(el, options) {
    var opts = {};
    SETTINGS.forEach(function (k) { opts[k] = options && options[k] != null && options[k] !== "" ? String(options[k]) : ""; });
    var low = parseInt(opts.lowThreshold, 10);
    opts.lowThreshold = isNaN(low) ? 10 : low;

    addStyle();
    el.classList.add("bo-live-counter");
    el.setAttribute("role", "status");
    el.setAttribute("aria-live", "polite");
    el.textContent = "";
    var dot = document.createElement("span");
    dot.className = "bo-dot";
    dot.setAttribute("aria-hidden", "true");
    el.appendChild(dot);
    if (opts.price) {
      var price = document.createElement("span");
      price.className = "bo-price";
      price.textContent = opts.price; // text, never HTML: the price comes from the page or URL
      el.appendChild(price);
    }
    var text = document.createElement("span");
    text.className = "bo-text";
    el.appendChild(text);

    function show(state, words) {
      el.setAttribute("data-state", state);
      text.textContent = words;
    }

    if (!opts.baseUrl || !opts.siteId || !opts.ticketDefinitionId) {
      show("error", "Live counter: baseUrl, siteId and ticketDefinitionId are needed");
      return null;
    }
    if (typeof EventSource === "undefined") {
      show("error", "Live availability needs a newer browser");
      return null;
    }

    show("connecting", "Checking availability\u2026");
    var retries = 0;
    return connect();

    function connect() {
      var source = new EventSource(streamUrl(opts));
      el.boxofficeLiveCounter = source;
      source.onmessage = function (e) {
        var msg;
        try { msg = JSON.parse(e.data); } catch (err) { return; }
        retries = 0;
        var d = describe(msg, opts);
        el.removeAttribute("data-stale");
        el.setAttribute("data-unsold", msg.unsoldCount === null ? "unlimited" : String(msg.unsoldCount));
        show(d.state, d.text);
      };
      // The definition was deleted: nothing left to watch (a reconnect would only get a 404).
      source.addEventListener("deleted", function () {
        source.close();
        el.removeAttribute("data-unsold");
        show("gone", "No longer on sale");
      });
      source.onerror = function () {
        if (source.readyState === EventSource.CLOSED) {
          // Not an event stream: 404 for an unknown definition, or 503 while the server has
          // all its live streams open. EventSource gives up; try again a few times, later
          // and later (with jitter, so that refused pages do not come back all at once).
          if (el.hasAttribute("data-unsold")) el.setAttribute("data-stale", "");
          else show("error", "Live availability is unavailable");
          if (retries < MAX_RETRIES) {
            var wait = Math.min(60, 5 * Math.pow(2, retries)) * (0.5 + Math.random());
            retries += 1;
            setTimeout(function () { if (el.boxofficeLiveCounter === source) connect(); }, wait * 1000);
          } else {
            show("error", "Live availability is unavailable");
          }
        } else {
          // Connection lost: EventSource retries on its own; keep the last count, dimmed.
          el.setAttribute("data-stale", "");
        }
      };
      return source;
    }
  }

  function fromScriptTag(script) {
    // A tag that names its definition is complete; only a bare tag takes the page's query.
    var query = new URLSearchParams(script.dataset.ticketDefinitionId ? "" : window.location.search);
    var opts = {};
    SETTINGS.forEach(function (k) {
      var v = script.dataset[k];
      opts[k] = v != null && v !== "" ? v : query.get(k);
    });
    var el = opts.target && document.getElementById(opts.target);
    if (!el) {
      el = document.createElement("div");
      script.parentNode.insertBefore(el, script.nextSibling);
    }
    mount(el, opts);
  }

  window.BoxofficeLiveCounter = window.BoxofficeLiveCounter || { mount: mount, describe: describe };

  var me = document.currentScript;
  if (me && me.hasAttribute("data-auto") && me.getAttribute("data-auto") === "false") return;
  if (me) {
    if (document.readyState === "loading" && me.dataset.target) {
      document.addEventListener("DOMContentLoaded", function () { fromScriptTag(me); });
    } else {
      fromScriptTag(me);
    }
  }
})();
