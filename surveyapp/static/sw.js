/* Service worker of the offline interview. Served at /sw.js (scope: the whole site) with the
   version of the app shell stamped in, so a changed shell installs a new worker.
   - The app shell (the offline page, its scripts, styles and icons) is cached on install.
   - The enumerator's assignments and questionnaires are cached whenever they are fetched.
   - Pages and data: network first, the cache when the network fails (offline).
   - Submissions (POST) are never intercepted: interviews wait in IndexedDB, not here. */
"use strict";

var VERSION = "__VERSION__";
var CACHE = "surveyapp-shell-" + VERSION;
var DATA = "surveyapp-data";
var SHELL = [__SHELL__];
var NETWORK_TIMEOUT_MS = 6000;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(SHELL.map(function (url) {
      return fetch(url, {credentials: "same-origin", cache: "no-store"}).then(function (response) {
        // A redirect (to the login page) is not the shell: leave it out.
        if (response.ok && !response.redirected) return cache.put(url, response);
      }).catch(function () { /* installed again on the next visit */ });
    }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (key) {
      return key.indexOf("surveyapp-shell-") === 0 && key !== CACHE;
    }).map(function (key) { return caches.delete(key); }));
  }).then(function () { return self.clients.claim(); }));
});

function cacheable(url) {
  if (url.origin !== self.location.origin) return null;
  var path = url.pathname;
  if (path.indexOf("/api/v1/assignments") === 0 || path.indexOf("/api/v1/questionnaires/") === 0) return DATA;
  if (path.indexOf("/static/") === 0 || path === "/offline/" || path === "/manifest.webmanifest") return CACHE;
  return null;
}

function withTimeout(promise, ms) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
    promise.then(function (r) { clearTimeout(timer); resolve(r); },
                 function (e) { clearTimeout(timer); reject(e); });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  var cacheName = cacheable(url);
  if (!cacheName) return;
  event.respondWith(
    withTimeout(fetch(request), NETWORK_TIMEOUT_MS).then(function (response) {
      if (response.ok && !response.redirected) {
        var copy = response.clone();
        caches.open(cacheName).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(request, {ignoreSearch: url.pathname === "/offline/"}).then(function (hit) {
        return hit || new Response(JSON.stringify({error: 503, message: "offline"}), {
          status: 503, headers: {"Content-Type": "application/json"}});
      });
    })
  );
});
