/* Service worker of the offline interview. Served at /sw.js (scope: the whole site) with the
   version of the app shell stamped in, so a changed shell installs a new worker.
   - The app shell (the offline page, its scripts, styles and icons) is cached on install.
   - The enumerator's assignments and questionnaires are cached whenever they are fetched.
   - The enumerator's pages (telephone desk, supervisor decisions) are cached on install and
     whenever they are opened; offline, the last copy is shown, marked on <body> with the time
     it was saved (static/js/pages.js shows that to the enumerator).
   - Pages and data: network first, the cache when the network fails (offline).
   - Submissions (POST) are never intercepted: interviews wait in IndexedDB, not here. */
"use strict";

var VERSION = "__VERSION__";
var CACHE = "surveyapp-shell-" + VERSION;
var DATA = "surveyapp-data";
var SHELL = [__SHELL__];
var PAGES = "surveyapp-pages";
var PAGE_URLS = [__PAGES__];
var HOME = SHELL[0];
var NETWORK_TIMEOUT_MS = 6000;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    // Every piece of the shell or no install: a worker without its shell would answer the
    // enumerator's offline visit with an error page. A failed install is tried again on the
    // next visit (the page registers the worker each time).
    return Promise.all(SHELL.map(function (url) {
      return fetch(url, {credentials: "same-origin", cache: "no-store"}).then(function (response) {
        // A redirect (to the login page) is not the shell.
        if (!response.ok || response.redirected) throw new Error("shell not available: " + url);
        return cache.put(url, response);
      });
    }));
  }).then(function () {
    return Promise.all(PAGE_URLS.map(function (url) {
      return fetch(url, {credentials: "same-origin", cache: "no-store"}).then(function (response) {
        return keepPage(url, response);
      }).catch(function () { /* kept on the next visit */ });
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

/* Keep a copy of an enumerator's page with the time it was saved. */
function keepPage(key, response) {
  if (!response.ok || response.redirected) return Promise.resolve();
  return response.text().then(function (text) {
    return caches.open(PAGES).then(function (cache) {
      return cache.put(key, new Response(text, {headers: {
        "Content-Type": "text/html; charset=utf-8", "X-Saved-At": new Date().toISOString()}}));
    });
  });
}

/* The last copy of a page, marked as such on <body>. */
function savedPage(key) {
  return caches.open(PAGES).then(function (cache) { return cache.match(key); }).then(function (hit) {
    if (!hit) return null;
    var saved = hit.headers.get("X-Saved-At") || "";
    return hit.text().then(function (text) {
      return new Response(text.replace("<body", '<body data-offline-copy="' + saved + '"'), {
        status: 200, headers: {"Content-Type": "text/html; charset=utf-8"}});
    });
  });
}

function pageKey(url) {
  var path = url.pathname;
  for (var i = 0; i < PAGE_URLS.length; i++) if (PAGE_URLS[i] === path) return path;
  return null;
}

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
  var key = pageKey(url);
  if (key && request.mode === "navigate") {
    event.respondWith(
      withTimeout(fetch(request), NETWORK_TIMEOUT_MS).then(function (response) {
        if (response.ok && !response.redirected) keepPage(key, response.clone());
        return response;
      }).catch(function () {
        return savedPage(key).then(function (page) { return page || caches.match(HOME); }).then(function (page) {
          return page || Response.error();
        });
      })
    );
    return;
  }
  if (url.pathname === "/collect/" && request.mode === "navigate") {
    /* The old home of enumerators: the offline app, from the cache when offline. */
    event.respondWith(fetch(request).catch(function () {
      return caches.match(HOME, {ignoreSearch: true}).then(function (hit) { return hit || Response.error(); });
    }));
    return;
  }
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
