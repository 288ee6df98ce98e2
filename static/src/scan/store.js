// The app's IndexedDB database, shared by the page and the service worker:
// "queue" holds the records not yet sent (queue.js), "session" what a
// sign-out leaves to finish when the network is back (session.js), "roll" the
// pre-minted label IDs this handheld may give devices offline and "labels"
// their QR labels, kept after an ID is used so it prints offline (roll.js).
import { openDB } from "idb";

const DB = "weee-scan";

let dbPromise;
export function db() {
  dbPromise ??= openDB(DB, 3, {
    upgrade(database, oldVersion) {
      if (oldVersion < 1) {
        const store = database.createObjectStore("queue", { keyPath: "id" });
        store.createIndex("created", "created");
      }
      if (oldVersion < 2) database.createObjectStore("session");
      if (oldVersion < 3) {
        database.createObjectStore("roll", { keyPath: "qr_id" }).createIndex("org", "org");
        database.createObjectStore("labels", { keyPath: "qr_id" });
      }
    },
    // A newer version (a new build in another tab or the service worker) waits
    // for this connection: let it go and reopen on next use.
    blocking(_current, _blocked, event) {
      event.target.close();
      dbPromise = undefined;
    },
  });
  return dbPromise;
}
