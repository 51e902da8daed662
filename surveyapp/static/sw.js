/* Service worker of the offline interview. Served at /sw.js (scope: the whole site) with the
   version of the app shell stamped in, so a changed shell installs a new worker.
   - The app shell (the offline page, its scripts, styles and icons) is cached on install.
   - The enumerator's assignments and questionnaires are cached whenever they are fetched.
   - The enumerator's pages (telephone desk, supervisor decisions) are cached on install and
     whenever they are opened; offline, the last copy is shown, marked on <body> with the time
     it was saved (static/js/pages.js shows that to the enumerator).
   - Pages and data: network first, the cache when the network fails (offline, too slow, or a
     5xx from a proxy or a server that is down).
   - Static files (scripts, styles, icons): the cache first, refreshed in the background
     (stale-while-revalidate), so a page opened without a network never waits on it; a changed
     app shell comes with a new worker, whose cache is filled fresh on install.
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

/* The network's answer; a failure when there is none in time or the server is unavailable
   (5xx), carrying that answer to show when nothing is cached. */
function fromNetwork(request) {
  return withTimeout(fetch(request), NETWORK_TIMEOUT_MS).then(function (response) {
    if (response.status < 500) return response;
    var error = new Error("server unavailable: " + response.status);
    error.response = response;
    throw error;
  });
}

function store(cacheName, request, response) {
  if (!response.ok || response.redirected) return Promise.resolve();
  var copy = response.clone();
  return caches.open(cacheName).then(function (cache) { return cache.put(request, copy); });
}

function unavailable(error) {
  return (error && error.response) || new Response(JSON.stringify({error: 503, message: "offline"}), {
    status: 503, headers: {"Content-Type": "application/json"}});
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
      fromNetwork(request).then(function (response) {
        if (response.ok && !response.redirected) event.waitUntil(keepPage(key, response.clone()));
        return response;
      }).catch(function (error) {
        return savedPage(key).then(function (page) { return page || caches.match(HOME); }).then(function (page) {
          return page || (error && error.response) || Response.error();
        });
      })
    );
    return;
  }
  if (url.pathname === "/collect/" && request.mode === "navigate") {
    /* The old home of enumerators: the offline app, from the cache when offline. */
    event.respondWith(fromNetwork(request).catch(function (error) {
      return caches.match(HOME, {ignoreSearch: true}).then(function (hit) {
        return hit || (error && error.response) || Response.error();
      });
    }));
    return;
  }
  var cacheName = cacheable(url);
  if (!cacheName) return;
  if (url.pathname.indexOf("/static/") === 0) {
    var refresh = fetch(request).then(function (response) {
      return store(cacheName, request, response).then(function () { return response; });
    });
    event.respondWith(caches.match(request).then(function (hit) {
      if (!hit) return refresh.catch(unavailable);
      event.waitUntil(refresh.catch(function () { /* kept as it is until the network is back */ }));
      return hit;
    }));
    return;
  }
  event.respondWith(
    fromNetwork(request).then(function (response) {
      event.waitUntil(store(cacheName, request, response));
      return response;
    }).catch(function (error) {
      return caches.match(request, {ignoreSearch: url.pathname === "/offline/"}).then(function (hit) {
        return hit || unavailable(error);
      });
    })
  );
});
