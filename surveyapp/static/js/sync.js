/* Interviews kept on the device (IndexedDB) until the server confirms them, and their sync
   through POST /api/v1/submissions: when the page opens, when the network comes back, every
   minute while online, and by hand. An interview leaves the device only when the server
   answers 201 (stored) or 200 (already stored); a refused one stays, with the server's reason. */
(function (global) {
  "use strict";

  var DB_NAME = "surveyapp-offline", DB_VERSION = 1, BATCH = 20;
  var dbPromise = null, syncing = null, listeners = [];

  function open() {
    if (dbPromise) return dbPromise;
    dbPromise = new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = function () {
        var db = req.result;
        if (!db.objectStoreNames.contains("interviews")) {
          var store = db.createObjectStore("interviews", {keyPath: "uuid"});
          store.createIndex("user", "user");
        }
        if (!db.objectStoreNames.contains("packages")) db.createObjectStore("packages", {keyPath: "key"});
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
    return dbPromise;
  }

  function tx(storeName, mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(storeName, mode), result;
        var store = t.objectStore(storeName);
        result = work(store);
        t.oncomplete = function () { resolve(result && "result" in result ? result.result : result); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
      });
    });
  }

  function put(storeName, value) { return tx(storeName, "readwrite", function (s) { s.put(value); }); }
  function get(storeName, key) { return tx(storeName, "readonly", function (s) { return s.get(key); }); }
  function remove(storeName, key) { return tx(storeName, "readwrite", function (s) { s.delete(key); }); }

  function listInterviews(user) {
    return tx("interviews", "readonly", function (s) { return s.index("user").getAll(user); });
  }

  function counts(user) {
    return listInterviews(user).then(function (all) {
      var waiting = all.filter(function (i) { return i.state === "waiting"; }).length;
      return {waiting: waiting, refused: all.length - waiting, total: all.length, interviews: all};
    });
  }

  function notify(user, extra) {
    return counts(user).then(function (c) {
      for (var k in extra || {}) c[k] = extra[k];
      listeners.forEach(function (fn) { fn(c); });
      return c;
    });
  }

  function saveInterview(record) {
    record.state = "waiting";
    record.result = null;
    return put("interviews", record).then(function () { return notify(record.user); });
  }

  function send(batch) {
    return fetch(global.SurveySync.submissionsUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json"},
      body: JSON.stringify({submissions: batch.map(function (r) { return r.submission; })})
    });
  }

  /* Send every waiting interview of ``user``; resolve with the counts and what happened. */
  function syncNow(user) {
    if (syncing) return syncing;
    syncing = listInterviews(user).then(function (all) {
      var waiting = all.filter(function (i) { return i.state === "waiting"; });
      var report = {sent: 0, refused: 0, error: null};
      if (!waiting.length) return report;
      if (navigator.onLine === false) { report.error = "offline"; return report; }
      var chain = Promise.resolve();
      for (var i = 0; i < waiting.length; i += BATCH) {
        (function (batch) {
          chain = chain.then(function () {
            if (report.error) return;
            return send(batch).then(function (response) {
              if (response.status === 401) { report.error = "login"; return; }
              if (response.status !== 200) { report.error = "server"; return; }
              return response.json().then(function (body) {
                var work = [];
                (body.results || []).forEach(function (result) {
                  var record = batch[result.index];
                  if (!record) return;
                  if (result.status === 200 || result.status === 201) {
                    report.sent += 1;
                    work.push(remove("interviews", record.uuid));
                  } else {
                    report.refused += 1;
                    record.state = "refused";
                    record.result = result;
                    work.push(put("interviews", record));
                  }
                });
                return Promise.all(work);
              });
            }, function () { report.error = "offline"; });
          });
        })(waiting.slice(i, i + BATCH));
      }
      return chain.then(function () { return report; });
    }).then(function (report) {
      syncing = null;
      return notify(user, {report: report});
    }, function (err) {
      syncing = null;
      return notify(user, {report: {sent: 0, refused: 0, error: "server", detail: String(err)}});
    });
    return syncing;
  }

  function start(user) {
    global.addEventListener("online", function () { syncNow(user); });
    global.addEventListener("offline", function () { notify(user, {report: {error: "offline"}}); });
    setInterval(function () { if (navigator.onLine !== false) syncNow(user); }, 60000);
    if ("serviceWorker" in navigator && global.SurveySync.serviceWorkerUrl) {
      global.SurveySync.offlineReady = install(global.SurveySync.serviceWorkerUrl);
    }
    return syncNow(user);
  }

  /* Register the service worker; resolve true once this page is controlled by an active worker,
     i.e. once the app shell is on the device and the app opens without a network (the worker's
     install fails, and is tried again on the next visit, when the shell cannot be kept). */
  function install(url) {
    var sw = navigator.serviceWorker;
    return sw.register(url, {scope: "/"}).then(function () { return sw.ready; }).then(function () {
      if (sw.controller) return true;
      return new Promise(function (resolve) {
        sw.addEventListener("controllerchange", function () { resolve(true); });
      });
    }).catch(function () { return false; /* the app still works online without it */ });
  }

  /* A random (version 4) UUID: the id an interview or a call outcome keeps until the server
     has stored it once (offline.js, pages.js). */
  function uuid4() {
    if (global.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  global.SurveySync = {
    submissionsUrl: "/api/v1/submissions",
    serviceWorkerUrl: null,
    /* A promise: true once the app opens without a network on this device (see install). */
    offlineReady: Promise.resolve(false),
    open: open,
    saveInterview: saveInterview,
    listInterviews: listInterviews,
    deleteInterview: function (user, uuid) { return remove("interviews", uuid).then(function () { return notify(user); }); },
    getInterview: function (uuid) { return get("interviews", uuid); },
    putInterview: function (record) { return put("interviews", record).then(function () { return notify(record.user); }); },
    savePackage: function (key, value) { return put("packages", {key: key, value: value}); },
    loadPackage: function (key) { return get("packages", key).then(function (r) { return r ? r.value : null; }); },
    counts: counts,
    syncNow: syncNow,
    start: start,
    onChange: function (fn) { listeners.push(fn); },
    uuid4: uuid4
  };
})(window);
