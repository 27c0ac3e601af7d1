// The door scanner (pages/scanner.py). On every /scan page: the service worker that keeps
// the scanner available offline, and a sign-out that leaves nothing of the site behind.
// On an event's page: scanning (camera, a photo, or a typed code), checking in online
// through the server, offline against the event's offline pack (IndexedDB; a code is
// genuine iff the SHA-256 of its exact text is in the pack), the queue of offline
// check-ins and its sync when the network returns, and undo of the last check-in.
import QrScanner from "/static/vendor/qr-scanner/qr-scanner.min.js";
import * as idb from "/static/scan/idb.js";

const offlineCapable = "serviceWorker" in navigator && window.isSecureContext;
if (offlineCapable) {
  navigator.serviceWorker.register("/scan/sw.js", { scope: "/scan" }).catch(() => null);
  // a visit the worker did not serve (the first ones, while it installs) is kept for offline
  // use here (in the worker's cache); the worker keeps the pages it serves itself
  const nav = performance.getEntriesByType("navigation")[0];
  if (!(nav && nav.workerStart > 0) && window.caches) {
    caches.open("boxoffice-scan-v1").then((c) => c.add(location.pathname)).catch(() => null);
  }
}

const logout = document.querySelector("form[data-scan-logout]");
if (logout) {
  logout.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      if (window.caches) for (const k of await caches.keys()) if (k.startsWith("boxoffice-scan-")) await caches.delete(k);
      // check-ins not sent yet are kept (they are sent at the next sign-in on this device)
      const waiting = (await idb.open()).transaction("queue").objectStore("queue").count();
      const n = await new Promise((ok) => { waiting.onsuccess = () => ok(waiting.result); waiting.onerror = () => ok(1); });
      if (!n) await idb.wipe();
    } catch { /* signing out must not depend on storage */ }
    logout.submit();
  });
}

const root = document.getElementById("scanner");
if (root) scannerPage(root);

function scannerPage(root) {
  const eventId = root.dataset.eventId;
  const csrf = root.dataset.csrf;
  const $ = (id) => document.getElementById(id);
  const result = $("result");
  const undoButton = $("undo");
  let seq = 0;
  let byHash = new Map();   // sha256(code) -> the pack's ticket
  let byNumber = new Map(); // ticket number -> the same ticket
  let packInfo = null;
  let last = null;          // the last check-in: {number, queueId?}
  let syncing = false;

  // --- showing -------------------------------------------------------------------------
  const time = (iso) => {
    if (!iso) return "";
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  };
  const who = (t) => (t ? [t.guestFullName || t.guest, t.name || t.type].filter(Boolean).join(" · ") : "");
  const number = (t) => (t ? t.ticketNumber || t.number : "");

  let shownQueueId = null;  // the offline check-in the result panel shows, until it is sent
  function show(kind, title, what, detail, offline) {
    shownQueueId = null;
    result.className = "result result-" + kind;
    result.dataset.state = kind;
    result.dataset.offline = offline ? "yes" : "no";
    result.dataset.seq = String(++seq);
    $("result-title").textContent = title + (offline ? " (offline)" : "");
    $("result-what").textContent = what || "";
    $("result-detail").textContent = detail || "";
  }

  function showAnswer(a, offline) {
    const t = a.ticket;
    const num = number(t) ? "Ticket " + number(t) : "";
    if (a.result === "ok") {
      show("ok", "Valid: checked in", who(t), offline ? num + " · saved on this device, sent when online" : num, offline);
    } else if (a.result === "already") {
      show("already", "Already checked in", who(t),
        ["at " + time(a.checkedInAt), a.checkedInBy ? "by " + a.checkedInBy : "", num].filter(Boolean).join(" · "), offline);
    } else {
      show("refused", "Refused", a.reason || a.error || "This ticket cannot be checked in", [who(t), num].filter(Boolean).join(" · "), offline);
    }
  }

  function setNet() {
    $("net").textContent = navigator.onLine ? "online" : "offline";
    root.dataset.net = navigator.onLine ? "online" : "offline";
  }

  async function showQueue() {
    const n = (await idb.byEvent("queue", eventId)).length;
    $("queue-status").textContent = n ? `${n} check-in${n === 1 ? "" : "s"} made offline waiting to be sent.` : "No check-ins waiting to be sent.";
    $("queue-status").dataset.count = String(n);
  }

  function logLine(text, kind) {
    const li = document.createElement("li");
    li.className = "log-" + kind;
    li.textContent = `${time(new Date().toISOString())} ${text}`;
    $("sync-log").prepend(li);
  }

  // --- the offline pack ----------------------------------------------------------------
  async function usePack(p) {
    packInfo = p;
    byHash = new Map(p.tickets.map((t) => [t.hash, t]));
    byNumber = new Map(p.tickets.map((t) => [t.number, t]));
    for (const m of await idb.byEvent("marks", eventId)) {
      const t = byNumber.get(m.number);
      if (t) { t.byThisDevice = true; if (!t.checkedInAt) t.checkedInAt = m.at; }
    }
    const when = new Date(p.downloadedAt).toLocaleString();
    $("pack-status").textContent = `Offline list: ${p.tickets.length} tickets, downloaded ${when}` +
      (p.truncated ? ` (only the first ${p.tickets.length} of ${p.total}: others can only be checked online).` : ".");
    root.dataset.pack = "ready";
  }

  async function downloadPack() {
    if (!navigator.onLine) return;
    try {
      const res = await fetch(`/scan/events/${encodeURIComponent(eventId)}/pack`, { credentials: "same-origin" });
      if (!res.ok || res.redirected || !(res.headers.get("content-type") || "").includes("json")) return;
      const p = await res.json();
      p.downloadedAt = new Date().toISOString();
      await idb.put("packs", p);
      await usePack(p);
    } catch { /* offline: keep the copy we have */ }
  }

  async function sha256(text) {
    const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
    return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // --- checking in ---------------------------------------------------------------------
  async function post(path, body) {
    const res = await fetch(`/scan/events/${encodeURIComponent(eventId)}/${path}`, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json" },
      body: JSON.stringify(body),
    });
    if (res.redirected || !(res.headers.get("content-type") || "").includes("json")) {
      const err = new Error(res.redirected ? "You are signed out: sign in again" : `The server refused (HTTP ${res.status}): reload the page`);
      err.refused = true;
      throw err;
    }
    const data = await res.json();
    if (!res.ok) { const err = new Error(data.error || `HTTP ${res.status}`); err.refused = true; throw err; }
    return data;
  }

  async function markCheckedIn(num, at) {
    const t = byNumber.get(num);
    if (t) { t.checkedInAt = at; t.byThisDevice = true; }
    await idb.put("marks", { key: eventId + " " + num, eventId, number: num, at });
  }

  async function unmark(num) {
    const t = byNumber.get(num);
    if (t) { t.checkedInAt = null; t.byThisDevice = false; }
    await idb.del("marks", eventId + " " + num);
  }

  async function checkInOnline(code) {
    const a = await post("check-in", { code });
    showAnswer(a, false);
    if (a.result === "ok") {
      last = { number: a.ticket.ticketNumber };
      await markCheckedIn(a.ticket.ticketNumber, (a.ticket.checkIn || {}).created || new Date().toISOString());
    } else if (a.result === "already" && a.ticket) {
      const t = byNumber.get(a.ticket.ticketNumber);
      if (t && !t.checkedInAt) t.checkedInAt = a.checkedInAt;
    }
  }

  async function checkInOffline(code) {
    if (!packInfo) {
      show("refused", "Cannot check", "No connection, and this event's offline list is not on this device", "", true);
      return;
    }
    const t = byHash.get(await sha256(code));
    if (!t) {
      show("refused", "Refused", "Not a ticket of this event: forged, altered, or another event's", "", true);
    } else if (t.state === "canceled") {
      showAnswer({ result: "refused", reason: "This ticket is cancelled", ticket: t }, true);
    } else if (t.state === "unpaid") {
      showAnswer({ result: "refused", reason: `Not paid: the order is ${t.orderStatus}`, ticket: t }, true);
    } else if (t.checkedInAt) {
      showAnswer({ result: "already", ticket: t, checkedInAt: t.checkedInAt,
        checkedInBy: t.byThisDevice ? "this device" : "another device (before the list was downloaded)" }, true);
    } else {
      const item = { id: crypto.randomUUID(), eventId, code, number: t.number, at: new Date().toISOString() };
      await idb.put("queue", item);
      await markCheckedIn(t.number, item.at);
      last = { number: t.number, queueId: item.id };
      showAnswer({ result: "ok", ticket: t }, true);
      shownQueueId = item.id;
      await showQueue();
    }
  }

  let cameraOn = false; // set by the camera's buttons below
  let busy = false;
  let recent = { code: "", at: 0 };
  async function handle(code) {
    code = (code || "").trim();
    if (!code || busy) return;
    if (cameraOn && code === recent.code && Date.now() - recent.at < 2500) return; // the camera sees a code many times
    recent = { code, at: Date.now() };
    busy = true;
    try {
      if (navigator.onLine) {
        try { await checkInOnline(code); }
        catch (e) {
          if (e.refused) show("refused", "Not checked", e.message, "", false);
          else { setNet(); await checkInOffline(code); } // the network failed: decide offline
        }
      } else {
        await checkInOffline(code);
      }
      showUndo();
    } finally { busy = false; }
  }

  function showUndo() {
    undoButton.disabled = !last;
    undoButton.textContent = last ? `Undo last check-in (ticket ${last.number})` : "Undo last check-in";
  }

  async function undo() {
    if (!last) return;
    const l = last;
    try {
      const waiting = l.queueId ? await idb.get("queue", l.queueId) : null;
      if (waiting) {
        await idb.del("queue", l.queueId);
        await unmark(l.number);
        show("idle", "Check-in undone", `Ticket ${l.number}`, "It had not been sent yet.", true);
        await showQueue();
      } else {
        const a = await post("undo", { ticketNumber: l.number });
        await unmark(l.number);
        show("idle", "Check-in undone", who(a.ticket), `Ticket ${l.number}`, false);
      }
      last = null;
      showUndo();
    } catch (e) {
      show("refused", "Could not undo", e.refused ? e.message : "No connection: try again when online", `Ticket ${l.number}`, !navigator.onLine);
    }
  }

  // --- sending offline check-ins ---------------------------------------------------------
  async function sync() {
    if (syncing || !navigator.onLine) return;
    syncing = true;
    let sent = 0;
    try {
      for (;;) {
        const items = (await idb.byEvent("queue", eventId)).slice(0, 100);
        if (!items.length) break;
        const { results } = await post("sync", { items: items.map((i) => ({ id: i.id, code: i.code })) });
        for (const r of results) {
          const item = items.find((i) => i.id === r.id);
          await idb.del("queue", r.id);
          sent += 1;
          const num = number(r.ticket) || (item && item.number) || "";
          if (r.result === "ok") {
            logLine(`Ticket ${num} (${who(r.ticket)}): checked in.`, "ok");
          } else if (r.result === "already") {
            await unmark(num);
            const t = byNumber.get(num);
            if (t) t.checkedInAt = r.checkedInAt;
            logLine(`Ticket ${num}: already checked in at ${time(r.checkedInAt)} by ${r.checkedInBy || "someone"} on another device: that check-in counts.`, "already");
          } else {
            await unmark(num);
            logLine(`Ticket ${num}: refused by the server: ${r.reason}.`, "refused");
          }
          // the panel still shows this offline check-in as green: show what the server decided
          if (r.result !== "ok" && shownQueueId === r.id) showAnswer(r, false);
          if (last && last.queueId === r.id) last = r.result === "ok" ? { number: num } : null;
        }
      }
    } catch (e) {
      if (e.refused) logLine(`Could not send the waiting check-ins: ${e.message}`, "refused");
    } finally {
      syncing = false;
      showUndo();
      await showQueue();
      root.dataset.synced = String((Number(root.dataset.synced) || 0) + sent);
    }
    if (sent) await downloadPack(); // what the other devices did meanwhile
  }

  // --- the camera, a photo, a typed code -----------------------------------------------------
  let camera = null;
  const video = $("camera");
  $("camera-start").addEventListener("click", async () => {
    try {
      camera = camera || new QrScanner(video, (r) => handle(r.data), { returnDetailedScanResult: true, preferredCamera: "environment" });
      video.hidden = false;
      await camera.start();
      cameraOn = true;
      $("camera-start").hidden = true;
      $("camera-stop").hidden = false;
      $("camera-stop").focus();
    } catch (e) {
      video.hidden = true;
      show("refused", "No camera", "The camera could not be started: scan a photo or type the code instead", String(e && e.message || e), false);
    }
  });
  $("camera-stop").addEventListener("click", () => {
    if (camera) camera.stop();
    cameraOn = false;
    video.hidden = true;
    $("camera-stop").hidden = true;
    $("camera-start").hidden = false;
    $("camera-start").focus();
  });
  $("photo").addEventListener("change", async (e) => {
    const file = e.target.files && e.target.files[0];
    e.target.value = "";
    if (!file) return;
    try {
      const r = await QrScanner.scanImage(file, { returnDetailedScanResult: true });
      await handle(r.data);
    } catch {
      show("refused", "No QR code found", "No QR code could be read from that photo: try another one", "", false);
    }
  });
  $("typed").addEventListener("submit", async (e) => {
    e.preventDefault();
    const field = $("code");
    const code = field.value;
    field.value = "";
    await handle(code);
    field.focus();
  });
  undoButton.addEventListener("click", undo);
  $("pack-refresh").addEventListener("click", downloadPack);
  $("sync-now").addEventListener("click", sync);
  window.addEventListener("online", () => { setNet(); sync(); });
  window.addEventListener("offline", setNet);
  setInterval(sync, 15000); // and retry, for a network that came back without an event

  (async () => {
    setNet();
    if (!offlineCapable) $("pack-status").textContent = "Offline scanning needs HTTPS (or localhost): this page works online only.";
    const saved = await idb.get("packs", eventId).catch(() => null);
    if (saved) await usePack(saved);
    await showQueue();
    await downloadPack();
    await sync();
    root.dataset.ready = "yes";
  })();
}
