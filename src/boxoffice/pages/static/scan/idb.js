// The scanner's IndexedDB: the offline packs, the check-ins waiting to be sent, and the
// check-ins this device has seen. Written by hand rather than vendoring `idb`: three
// stores and five operations, a promise around each request, are all the scanner needs,
// and a library would add a vendored file and its pinning for ~40 lines.
const NAME = "boxoffice-scanner";
const VERSION = 1;

let opened = null;

export function open() {
  if (!opened) {
    opened = new Promise((resolve, reject) => {
      const req = indexedDB.open(NAME, VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        db.createObjectStore("packs", { keyPath: "eventId" });       // the offline pack of an event
        const q = db.createObjectStore("queue", { keyPath: "id" });  // offline check-ins to send
        q.createIndex("eventId", "eventId");
        const m = db.createObjectStore("marks", { keyPath: "key" }); // check-ins this device saw
        m.createIndex("eventId", "eventId");
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  return opened;
}

function done(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function store(name, mode) {
  const db = await open();
  return db.transaction(name, mode).objectStore(name);
}

export async function get(name, key) { return done((await store(name, "readonly")).get(key)); }
export async function put(name, value) { return done((await store(name, "readwrite")).put(value)); }
export async function del(name, key) { return done((await store(name, "readwrite")).delete(key)); }
export async function byEvent(name, eventId) {
  return done((await store(name, "readonly")).index("eventId").getAll(eventId));
}

// Signing out on a shared device: nothing of the site's tickets stays behind.
export async function wipe() {
  if (opened) { (await opened).close(); opened = null; }
  await new Promise((resolve) => {
    const req = indexedDB.deleteDatabase(NAME);
    req.onsuccess = req.onerror = req.onblocked = () => resolve();
  });
}
