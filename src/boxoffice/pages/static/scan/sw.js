// The door scanner's service worker (served at /scan/sw.js, scope /scan): the scanner's
// pages and their files stay available without a network. Pages: network first, the last
// copy when offline. Files: the cached copy first, refreshed in the background. The
// JSON the scanner's script calls (check-in, sync, the offline pack) is never cached
// here: the script keeps the pack in IndexedDB and queues offline check-ins itself.
const CACHE = "boxoffice-scan-v1";
const FILES = [
  "/static/app.css", "/static/pages.js", "/static/favicon.svg", "/static/vendor/htmx/htmx.min.js",
  "/static/vendor/qr-scanner/qr-scanner.min.js", "/static/vendor/qr-scanner/qr-scanner-worker.min.js",
  "/static/scan/scanner.js", "/static/scan/idb.js", "/static/scan/scan.css",
];

self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("boxoffice-scan-") && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

function isPage(url, req) {
  return req.mode === "navigate" && (url.pathname === "/scan" || /^\/scan\/events\/[^/]+$/.test(url.pathname));
}

self.addEventListener("fetch", (e) => {
  const req = e.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== location.origin) return;
  if (isPage(url, req)) {
    e.respondWith(fetch(req).then((res) => {
      // a signed-out redirect to the sign-in page is not the page: keep the last good copy
      if (res.ok && !res.redirected) {
        const copy = res.clone();
        caches.open(CACHE).then((c) => c.put(url.pathname, copy));
      }
      return res;
    }).catch(() => caches.match(url.pathname).then((hit) => hit || new Response(
      "<!doctype html><title>Offline</title><p>Offline, and this page was not opened here before.</p>",
      { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } }))));
    return;
  }
  if (FILES.includes(url.pathname)) {
    e.respondWith(caches.open(CACHE).then((c) => c.match(url.pathname).then((hit) => {
      const fresh = fetch(req).then((res) => { if (res.ok) c.put(url.pathname, res.clone()); return res; });
      if (hit) { fresh.catch(() => null); return hit; }
      return fresh;
    })));
  }
});
