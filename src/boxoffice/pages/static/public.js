// The public event page and checkout (pages/public.py). No inline scripts: the
// Content-Security-Policy forbids them, so everything the pages do in the browser is here.
(function () {
  "use strict";

  // --- live availability: the public SSE stream the live-counter example uses --------
  // GET /boxoffice/v1/live/{site}/ticket-definitions/{id} sends {ticketDefinitionId,
  // unsoldCount, soldOut} at once and on every change; EventSource reconnects by itself.
  function describe(msg) {
    var n = msg.unsoldCount;
    if (msg.soldOut || n === 0) return { state: "soldout", text: "Sold out" };
    if (n === null || n === undefined) return { state: "available", text: "On sale" };
    return { state: n <= 10 ? "low" : "available", text: (n <= 10 ? "Only " : "") + n + (n === 1 ? " ticket" : " tickets") + " left" };
  }

  function watch(el) {
    var site = el.getAttribute("data-live-site"), id = el.getAttribute("data-live-td");
    if (!site || !id || typeof EventSource === "undefined") return;
    var retries = 0;
    function connect() {
      var src = new EventSource("/boxoffice/v1/live/" + encodeURIComponent(site) + "/ticket-definitions/" + encodeURIComponent(id));
      src.onmessage = function (e) {
        var msg;
        try { msg = JSON.parse(e.data); } catch (err) { return; }
        retries = 0;
        var d = describe(msg);
        el.setAttribute("data-state", d.state);
        el.setAttribute("data-unsold", msg.unsoldCount === null ? "unlimited" : String(msg.unsoldCount));
        el.textContent = "";
        var badge = document.createElement("span");
        badge.className = "badge" + (d.state === "soldout" ? " sold-out" : "");
        badge.textContent = d.text;
        el.appendChild(badge);
        document.querySelectorAll("[data-qty-td='" + CSS.escape(id) + "']").forEach(function (input) {
          input.disabled = d.state === "soldout";
          if (msg.unsoldCount !== null && msg.unsoldCount !== undefined) {
            input.max = String(Math.min(50, msg.unsoldCount));
          }
        });
      };
      src.addEventListener("deleted", function () { src.close(); el.textContent = "No longer on sale"; });
      src.onerror = function () {
        if (src.readyState === EventSource.CLOSED && retries < 5) {
          retries += 1;
          setTimeout(connect, Math.min(60, 5 * Math.pow(2, retries)) * (0.5 + Math.random()) * 1000);
        }
      };
    }
    connect();
  }

  // --- the hold's countdown -----------------------------------------------------------
  function countdown(box) {
    var end = Date.parse(box.getAttribute("data-expires"));
    var left = box.querySelector(".countdown-left"), over = box.querySelector(".countdown-over");
    if (isNaN(end) || !left) return;
    function tick() {
      var s = Math.max(0, Math.round((end - Date.now()) / 1000));
      left.textContent = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
      if (s > 0) { setTimeout(tick, 1000); return; }
      box.classList.add("expired");
      if (over) over.hidden = false;
      document.querySelectorAll("form[data-hold] button[type=submit]").forEach(function (b) { b.disabled = true; });
    }
    tick();
  }

  // --- Stripe's Payment Element (only on the card payment page, with js.stripe.com) ---
  function stripeForm(form) {
    if (typeof window.Stripe !== "function") return;
    var stripe = window.Stripe(form.getAttribute("data-stripe-key"));
    var elements = stripe.elements({ clientSecret: form.getAttribute("data-client-secret") });
    elements.create("payment").mount("#payment-element");
    var error = document.getElementById("stripe-error");
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      stripe.confirmPayment({ elements: elements, confirmParams: { return_url: form.getAttribute("data-return-url") } })
        .then(function (result) {
          if (result.error) {
            error.textContent = result.error.message || "The payment did not go through";
            error.hidden = false;
            button.disabled = false;
          }
        });
    });
  }

  function start() {
    document.querySelectorAll("[data-live-td]").forEach(watch);
    document.querySelectorAll("[data-expires]").forEach(countdown);
    var errors = document.getElementById("form-errors");
    if (errors) errors.focus();
    var sf = document.getElementById("stripe-form");
    if (sf) {
      if (typeof window.Stripe === "function") stripeForm(sf);
      else window.addEventListener("load", function () { stripeForm(sf); });
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
