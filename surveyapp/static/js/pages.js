/* The enumerator's pages besides the interview app (telephone desk, supervisor decisions):
   - says when the page is the copy the service worker saved (offline) and reloads it when the
     network is back;
   - shows what waits on this device: interviews (IndexedDB, see sync.js) and call outcomes;
   - on the telephone desk, keeps a call outcome recorded during an outage in localStorage and
     sends it when the network returns, with its own id so the server stores it once. */
(function () {
  "use strict";
  var panel = document.getElementById("page-status");
  if (!panel) return;
  var M = JSON.parse(document.getElementById("page-messages").textContent);
  var user = panel.dataset.user;
  var OUTBOX = "cati-outbox:" + user, REFUSED = "cati-refused:" + user;
  var note = document.getElementById("page-note");
  var netEl = document.getElementById("page-net");
  var outcomesEl = document.getElementById("waiting-outcomes");
  var interviewsEl = document.getElementById("waiting-interviews");
  var refusedList = document.getElementById("refused-outcomes");
  var interviews = [];
  var flushing = false;

  function fmt(text, vars) {
    return String(text).replace(/%\((\w+)\)s/g, function (m, k) { return vars && k in vars ? vars[k] : m; });
  }
  function read(key) {
    try { return JSON.parse(window.localStorage.getItem(key) || "[]"); } catch (e) { return []; }
  }
  function write(key, list) { window.localStorage.setItem(key, JSON.stringify(list)); }
  function offline() { return navigator.onLine === false; }

  /* --- reloading the page ------------------------------------------------------------------
     Never under the enumerator's feet: not once they are leaving it (a link, the menu, the
     address bar; a reload started then would replace the page they asked for), and on the
     "online" event only after the server answered. That event and navigator.onLine say only
     that a network interface is up: a tablet on a Wi-Fi without internet, or a browser whose
     outage is emulated, fires "online" while nothing reaches the server. */
  var leaving = false, RECHECK_MS = 5000;
  window.addEventListener("beforeunload", function () {
    leaving = true;
    /* a navigation that does not happen (a download) leaves the page in place */
    window.setTimeout(function () { leaving = false; }, 10000);
  });
  function reload() { if (!leaving) window.location.reload(); }
  function reloadWhenReachable() {
    if (leaving) return Promise.resolve();
    /* not answered by the service worker (it keeps no copy of it): the server, or nothing */
    return fetch(panel.dataset.ping, {credentials: "same-origin", cache: "no-store",
      headers: {"Accept": "application/json"}}).then(function (response) {
      if (response.status < 500) reload();
    }, function () { /* still out of reach: the next "online" tries again */ });
  }

  /* --- the copy saved by the service worker ------------------------------------------------ */
  var savedAt = document.body.dataset.offlineCopy;
  if (savedAt !== undefined) {
    var banner = document.createElement("p");
    banner.className = "flash flash-error";
    banner.id = "offline-copy";
    banner.setAttribute("role", "status");
    banner.textContent = fmt(M.offlineCopy, {time: savedAt ? new Date(savedAt).toLocaleString() : "?"});
    panel.parentNode.insertBefore(banner, panel);
  }

  /* --- the telephone desk's outcomes ------------------------------------------------------- */
  var caseEl = document.getElementById("case");
  var heldCase = caseEl ? parseInt(caseEl.dataset.case, 10) : null;
  var form = document.getElementById("outcome-form");

  function markHeld() {
    if (!form || heldCase === null) return;
    var queued = read(OUTBOX).some(function (o) { return o.caseId === heldCase; });
    var interviewed = interviews.some(function (i) { return i.caseId === heldCase && i.state === "waiting"; });
    var text = queued ? M.outcomeQueued : (interviewed ? M.interviewQueued : "");
    var start = document.getElementById("start-cati-interview");
    form.hidden = !!text;
    if (start) start.hidden = !!text;
    var box = document.getElementById("held-note");
    if (!box) {
      box = document.createElement("p");
      box.id = "held-note";
      box.className = "flash";
      form.parentNode.insertBefore(box, form);
    }
    box.textContent = text;
    box.hidden = !text;
  }

  function render() {
    var outbox = read(OUTBOX), refused = read(REFUSED);
    outcomesEl.textContent = String(outbox.length);
    outcomesEl.dataset.count = String(outbox.length);
    var waiting = interviews.filter(function (i) { return i.state === "waiting"; }).length;
    interviewsEl.textContent = String(waiting);
    interviewsEl.dataset.count = String(waiting);
    netEl.textContent = offline() ? "⚠ " + M.offline : "● " + M.online;
    netEl.className = "net-state " + (offline() ? "is-offline" : "is-online");
    refusedList.textContent = "";
    refusedList.hidden = !refused.length;
    refused.forEach(function (r, index) {
      var li = document.createElement("li");
      li.className = "error-text";
      li.textContent = fmt(M.refused, {id: r.caseId, message: r.message}) + " ";
      var ok = document.createElement("button");
      ok.type = "button"; ok.className = "link"; ok.textContent = M.dismiss;
      ok.addEventListener("click", function () {
        var list = read(REFUSED); list.splice(index, 1); write(REFUSED, list); render();
      });
      li.appendChild(ok);
      refusedList.appendChild(li);
    });
    markHeld();
  }

  function flush() {
    if (flushing) return Promise.resolve();
    var outbox = read(OUTBOX);
    if (!outbox.length) { render(); return Promise.resolve(); }
    if (offline()) { note.textContent = M.outcomeQueuedOffline; render(); return Promise.resolve(); }
    flushing = true;
    var sent = 0, stop = null;
    var chain = Promise.resolve();
    outbox.forEach(function (item) {
      chain = chain.then(function () {
        if (stop) return;
        var body = new URLSearchParams(item.fields);
        body.set("client_id", item.id);
        body.set("csrf_token", item.csrf);
        return fetch(item.url, {method: "POST", credentials: "same-origin", body: body,
          headers: {"Accept": "application/json", "X-CSRFToken": item.csrf}}).then(function (response) {
          var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
          if (!json || response.redirected) { stop = "login"; return; }
          return response.json().then(function (answer) {
            var list = read(OUTBOX).filter(function (o) { return o.id !== item.id; });
            write(OUTBOX, list);
            if (response.ok) { sent += 1; return; }
            var refused = read(REFUSED);
            refused.push({caseId: item.caseId, message: answer.message || String(response.status)});
            write(REFUSED, refused);
          });
        }, function () { stop = "offline"; });
      });
    });
    return chain.then(function () {
      flushing = false;
      note.textContent = stop === "login" ? M.loginAgain : (stop === "offline" ? M.outcomeQueuedOffline :
        (sent ? fmt(M.outcomesSent, {n: sent}) : ""));
      render();
      /* The desk shown is stale once an outcome reached the server: show the fresh one. */
      if (sent && form && !stop && !read(OUTBOX).length) reload();
    });
  }

  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var fields = {};
      new FormData(form).forEach(function (v, k) { if (k !== "csrf_token") fields[k] = String(v); });
      var csrf = form.querySelector('input[name="csrf_token"]').value;
      var outbox = read(OUTBOX);
      outbox.push({id: SurveySync.uuid4(), caseId: heldCase, url: form.action, fields: fields, csrf: csrf,
                   at: new Date().toISOString()});
      write(OUTBOX, outbox);
      note.textContent = offline() ? M.outcomeQueuedOffline : M.sending;
      render();
      flush();
    });
  }
  var next = document.getElementById("next-case");
  if (next) {
    next.form.addEventListener("submit", function (event) {
      if (offline()) { event.preventDefault(); note.textContent = M.needNetwork; }
    });
  }
  document.getElementById("send-now").addEventListener("click", function () {
    flush();
    if (window.SurveySync) window.SurveySync.syncNow(user);
  });

  window.addEventListener("online", function () {
    render();
    flush().then(function () {
      if (savedAt !== undefined && !read(OUTBOX).length) return reloadWhenReachable();
    });
  });
  /* The saved copy also asks the server every few seconds: the "online" event does not always
     come (a tab in the background, a network that returns without the interface changing). */
  if (savedAt !== undefined) {
    window.setInterval(function () {
      if (!offline() && !read(OUTBOX).length) reloadWhenReachable();
    }, RECHECK_MS);
  }
  window.addEventListener("offline", render);

  if (window.SurveySync) {
    SurveySync.submissionsUrl = panel.dataset.submissions;
    SurveySync.serviceWorkerUrl = panel.dataset.sw;
    SurveySync.onChange(function (c) {
      interviews = c.interviews;
      render();
      /* A telephone interview reached the server and closed its case: show the fresh desk. */
      if (c.report && c.report.sent && form && !offline()) reload();
    });
    SurveySync.start(user);
  }
  render();
  flush();
  panel.dataset.ready = "1";
})();
