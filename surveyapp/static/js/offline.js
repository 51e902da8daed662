/* The offline interview: runs a questionnaire entirely in the browser (one screen per question
   group, skip logic through SurveyConditions, the same checks as the server where they can be
   made here), saves the finished interview on the device and lets SurveySync send it. The
   server checks everything again when the interview arrives. */
(function () {
  "use strict";
  var root = document.getElementById("offline-app");
  if (!root || !window.SurveySync || !window.SurveyConditions) return;
  var M = JSON.parse(document.getElementById("offline-messages").textContent);
  var user = root.dataset.user;
  var uiLang = root.dataset.lang || "zh_CN";
  var screen = document.getElementById("screen");
  var params = new URLSearchParams(window.location.search);
  SurveySync.submissionsUrl = root.dataset.submissions;
  SurveySync.serviceWorkerUrl = root.dataset.sw;

  var data = {assignments: [], questionnaires: {}, loadedFrom: null};
  var iv = null;          /* the interview in progress */
  var groupStarted = 0;   /* when the current group was shown (ms) */
  var notice = "";

  /* --- small helpers ---------------------------------------------------------------------- */
  function fmt(text, vars) {
    return String(text).replace(/%\((\w+)\)s/g, function (m, k) { return vars && k in vars ? vars[k] : m; });
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k === "text") node.textContent = v;
      else if (k === "value") node.value = v;
      else if (k === "on") Object.keys(v).forEach(function (e) { node.addEventListener(e, v[e]); });
      else if (k in node && typeof v !== "string") node[k] = v;
      else node.setAttribute(k, v === true ? "" : v);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }
  function tr(text, lang) {
    if (!text) return "";
    lang = lang || uiLang;
    if (text[lang]) return text[lang];
    var base = lang.split("_")[0];
    for (var k in text) if (k.split("_")[0] === base && text[k]) return text[k];
    if (text.zh_CN) return text.zh_CN;
    for (var j in text) if (text[j]) return text[j];
    return "";
  }
  function blank(v) {
    if (v === undefined || v === null) return true;
    if (Array.isArray(v)) return v.length === 0;
    return String(v).trim() === "";
  }
  function show(nodes) {
    screen.textContent = "";
    nodes.forEach(function (n) { if (n) screen.appendChild(n); });
    window.scrollTo(0, 0);
  }
  function getJSON(url) {
    return fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}}).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    });
  }

  /* --- assignments and questionnaires: from the network, else from the device ------------ */
  function load() {
    var key = "assignments:" + user;
    return getJSON(root.dataset.assignments).then(function (body) {
      data.assignments = body.assignments || [];
      data.loadedFrom = "network";
      var versions = {};
      data.assignments.forEach(function (a) { versions[a.questionnaire.version_id] = a.questionnaire.sha256; });
      return Promise.all(Object.keys(versions).map(function (id) {
        var qkey = "questionnaire:" + id;
        return SurveySync.loadPackage(qkey).then(function (cached) {
          if (cached && cached.sha256 === versions[id] && cached.condition_format === SurveyConditions.FORMAT) return cached;
          return getJSON(root.dataset.questionnaire.replace(/\/0$/, "/" + id)).then(function (doc) {
            return SurveySync.savePackage(qkey, doc).then(function () { return doc; });
          });
        }).then(function (doc) { data.questionnaires[id] = doc; });
      })).then(function () { return SurveySync.savePackage(key, data.assignments); })
        .then(loadSentBack);
    }).catch(function () {
      return SurveySync.loadPackage(key).then(function (saved) {
        data.assignments = saved || [];
        data.loadedFrom = saved ? "device" : null;
        return Promise.all(data.assignments.map(function (a) {
          var id = a.questionnaire.version_id;
          return SurveySync.loadPackage("questionnaire:" + id).then(function (doc) { if (doc) data.questionnaires[id] = doc; });
        }));
      });
    });
  }

  /* Interviews a supervisor sent back: kept on the device to correct and send again. */
  function loadSentBack() {
    if (!root.dataset.sentBack) return null;
    return getJSON(root.dataset.sentBack).then(function (body) {
      return Promise.all((body.interviews || []).map(function (item) {
        return SurveySync.getInterview(item.uuid).then(function (known) {
          if (known && known.state === "waiting") return null;  /* a correction is on its way */
          return SurveySync.putInterview({uuid: item.uuid, user: user, created: item.reviewed_at,
            versionId: item.questionnaire_version, caseId: null, submission: item.submission,
            label: item.submission.locality + " · " + M.sentBack, state: "refused",
            result: {outcome: "sent_back", status: 200, message: item.reason}});
        });
      }));
    }).catch(function () { /* offline or refused: asked again next time */ });
  }

  /* --- skip logic ------------------------------------------------------------------------- */
  function relevance(qv, answers) {
    var effective = {}, rel = {_scopes: {}};
    function get(id) { return id in effective ? effective[id] : ""; }
    qv.groups.forEach(function (g) {
      var groupOk = !g.relevant || SurveyConditions.evaluate(g.relevant, get);
      if (g.repeat) {
        /* a repeat group: each instance's conditions read its own earlier answers, then the
           answers before the group (as the server and ODK do); outside, only count() */
        var list = groupOk && Array.isArray(answers[g.id]) ? answers[g.id] : [];
        g.questions.forEach(function (q) { rel[q.id] = groupOk; });
        list.forEach(function (inst, i) {
          var local = {};
          var lget = function (id) { return id in local ? local[id] : get(id); };
          g.questions.forEach(function (q) {
            var ok = !q.relevant || SurveyConditions.evaluate(q.relevant, lget);
            rel[slotId(g, i, q)] = ok;
            var answer = q.calculation ? SurveyConditions.value(q.calculation, lget) : inst[q.id];
            if (ok && !blank(answer)) local[q.id] = answer;
          });
          rel._scopes[g.id + "." + i] = lget;
        });
        if (list.length) effective[g.id] = list;
        return;
      }
      g.questions.forEach(function (q) {
        var ok = groupOk && (!q.relevant || SurveyConditions.evaluate(q.relevant, get));
        rel[q.id] = ok;
        /* a calculation's value (the server computes it again) is what later skips see */
        var answer = q.calculation ? SurveyConditions.value(q.calculation, get) : answers[q.id];
        if (ok && !blank(answer)) effective[q.id] = answer;
      });
    });
    rel._get = get;
    return rel;
  }
  /* --- repeat groups: each instance's questions as "slots" (the question in an instance) -- */
  function slotId(g, i, q) { return g.id + "." + i + "." + q.id; }
  function slot(g, i, q) {
    var s = Object.create(q);
    s.id = slotId(g, i, q); s.base = q.id; s.roster = g.id; s.index = i;
    return s;
  }
  function store(q) { return q.roster ? iv.answers[q.roster][q.index] : iv.answers; }
  function answerOf(q, suffix) { return store(q)[(q.roster ? q.base : q.id) + (suffix || "")]; }
  function setAnswer(q, value, suffix) {
    var k = (q.roster ? q.base : q.id) + (suffix || "");
    if (blank(value)) delete store(q)[k]; else store(q)[k] = value;
  }
  function getterOf(rel, q) { return (q.roster && rel._scopes[q.roster + "." + q.index]) || rel._get; }
  /* The number of instances a repeat count asks for (null: as many as the interviewer adds). */
  function fixedCount(g, rel) {
    if (!g.repeat || !g.repeat.count) return null;
    return SurveyConditions.repeatCount(g.repeat.count, rel._get);  /* as the server reads it */
  }
  /* A count above the group's limit (5e16 people): no instances are built, the group says why. */
  function limitOf(g) { return SurveyConditions.repeatLimit(g.repeat); }
  function tooMany(g, rel) { return SurveyConditions.repeatTooMany(g.repeat, rel._get); }
  /* The instances of a repeat group, created or dropped to match its count or minimum. */
  function instances(g, rel) {
    var list = iv.answers[g.id] = Array.isArray(iv.answers[g.id]) ? iv.answers[g.id] : [];
    var n = fixedCount(g, rel);
    if (tooMany(g, rel)) n = 0;  /* never build 5e16 sections */
    if (n === null) n = Math.max(list.length, g.repeat.min || 0);
    while (list.length < n) list.push({});
    list.length = n;
    return list;
  }
  function groupQuestions(g) {
    if (!g.repeat) return g.questions;
    var out = [];
    (iv.answers[g.id] || []).forEach(function (inst, i) {
      g.questions.forEach(function (q) { out.push(slot(g, i, q)); });
    });
    return out;
  }
  function groupShown(qv, index, rel) {
    var g = qv.groups[index];
    if (g.repeat && fixedCount(g, rel) === 0) return false;
    return g.questions.some(function (q) { return rel[q.id] && widget(q).shown; });
  }
  function nextGroup(after) {
    var rel = relevance(iv.qv, iv.answers);
    for (var i = after + 1; i < iv.qv.groups.length; i++) if (groupShown(iv.qv, i, rel)) return i;
    return null;
  }
  function previousGroup(before) {
    var rel = relevance(iv.qv, iv.answers);
    for (var i = before - 1; i >= 0; i--) if (groupShown(iv.qv, i, rel)) return i;
    return null;
  }
  function pruned() {
    var rel = relevance(iv.qv, iv.answers), out = {};
    iv.qv.groups.forEach(function (g) {
      if (g.repeat) {
        var list = iv.answers[g.id] || [];
        if (!g.questions.length || !rel[g.questions[0].id] || !list.length) return;
        out[g.id] = list.map(function (inst, i) {
          var o = {};
          g.questions.forEach(function (q) {
            if (!rel[slotId(g, i, q)] || !widget(q).answered || blank(inst[q.id])) return;
            o[q.id] = inst[q.id];
            var chosen = Array.isArray(o[q.id]) ? o[q.id] : [o[q.id]];
            if (q.other_code && chosen.indexOf(q.other_code) >= 0 && !blank(inst[q.id + ".other"])) o[q.id + ".other"] = inst[q.id + ".other"].trim();
          });
          return o;
        });
        return;
      }
      g.questions.forEach(function (q) {
        if (!rel[q.id] || !widget(q).answered || blank(iv.answers[q.id])) return;
        out[q.id] = iv.answers[q.id];
        var other = iv.answers[q.id + ".other"];
        var chosen = Array.isArray(out[q.id]) ? out[q.id] : [out[q.id]];
        if (q.other_code && chosen.indexOf(q.other_code) >= 0 && !blank(other)) out[q.id + ".other"] = other.trim();
      });
    });
    return out;
  }

  /* A cascading select: the codes its choice filter offers, given the answers so far. */
  function allowedCodes(q, get) {
    return q.choices.filter(function (c) {
      return !q.choice_filter || SurveyConditions.evaluate(q.choice_filter, get, c.properties || {name: c.code});
    }).map(function (c) { return c.code; });
  }

  /* --- checks (the server repeats them all) ----------------------------------------------- */
  function check(q, rel) {
    var v = answerOf(q), get = getterOf(rel, q);
    if (!widget(q).answered) return null;
    if (q.choice_filter && !blank(v)) {
      var allowed = allowedCodes(q, get);
      if ((Array.isArray(v) ? v : [v]).some(function (code) { return allowed.indexOf(code) < 0; })) return M.constraint;
    }
    if (blank(v)) {
      var required = q.required_if ? SurveyConditions.evaluate(q.required_if, get) : q.required;
      return required ? M.required : null;
    }
    var text = Array.isArray(v) ? "" : String(v).normalize("NFKC").trim();
    var message = widget(q).check ? widget(q).check(q, text) : null;
    if (message) return message;
    if (q.other_code) {
      var chosen = Array.isArray(v) ? v : [v];
      if (chosen.indexOf(q.other_code) >= 0 && blank(answerOf(q, ".other"))) return M.otherMissing;
    }
    if (q.constraint && !SurveyConditions.evaluate(q.constraint, get, v)) {
      return q.constraint_message ? tr(q.constraint_message, iv.lang) : M.constraint;
    }
    return null;
  }
  function range(q, n) {
    if ((q.min !== null && n < q.min) || (q.max !== null && n > q.max)) {
      return fmt(M.range, {min: q.min === null ? "…" : q.min, max: q.max === null ? "…" : q.max});
    }
    return null;
  }

  /* --- one widget per input kind (the server's registry says which a question has) -------- */
  function inputBox(type, mode) {
    return function (q, value, label) {
      return el("input", {type: type, inputmode: mode || null, name: q.id, "aria-label": label, value: value || ""});
    };
  }
  function readValue(form, q) {
    var field = form.querySelector('[name="' + q.id + '"]');
    return field ? field.value : "";
  }
  function readChoice(form, q) {
    if (q.multiple) {
      return Array.prototype.map.call(form.querySelectorAll('input[name="' + q.id + '"]:checked'), function (i) { return i.value; });
    }
    var checked = form.querySelector('input[name="' + q.id + '"]:checked');
    return checked ? checked.value : "";
  }
  function choiceWidget(q, value) {
    var multiple = !!q.multiple;
    var chosen = multiple ? (value || []) : [value];
    var box = el("div", {}, [el("div", {"class": "choices"}, q.choices.map(function (c) {
      return el("label", {"class": "choice"}, [
        el("input", {type: multiple ? "checkbox" : "radio", name: q.id, value: c.code,
                     checked: chosen.indexOf(c.code) >= 0, "data-exclusive": c.exclusive ? "1" : null}),
        el("span", {text: tr(c.label, iv.lang)})]);
    }))]);
    if (q.other_code) {
      box.appendChild(el("label", {"class": "other", "for": "other-" + q.id, text: M.specify}));
      box.appendChild(el("input", {type: "text", id: "other-" + q.id, name: q.id + ".other", value: answerOf(q, ".other") || ""}));
    }
    return box;
  }
  function geopointText(value) {
    var p = String(value).split(/\s+/);
    var text = Number(p[0]).toFixed(6) + ", " + Number(p[1]).toFixed(6);
    return p.length > 3 ? text + " (" + fmt(M.locationAccuracy, {m: Math.round(Number(p[3]))}) + ")" : text;
  }
  /* A location is taken only when the interviewer presses the button (the respondent's consent). */
  function geopointWidget(q, value, label) {
    var hidden = el("input", {type: "hidden", name: q.id, value: value || ""});
    var shown = el("p", {"class": "geopoint-value", "aria-live": "polite", text: value ? geopointText(value) : ""});
    var button = el("button", {type: "button", "class": "secondary capture-location", "aria-label": label, text: M.captureLocation,
      on: {click: function () {
        if (!navigator.geolocation) { shown.textContent = M.locationFailed; return; }
        navigator.geolocation.getCurrentPosition(function (pos) {
          var c = pos.coords;
          /* ODK's order: latitude longitude altitude accuracy (altitude 0 when unknown, as ODK) */
          hidden.value = [c.latitude, c.longitude, c.altitude === null ? 0 : c.altitude, c.accuracy].join(" ");
          shown.textContent = geopointText(hidden.value);
          hidden.dispatchEvent(new Event("input", {bubbles: true}));
        }, function () { shown.textContent = M.locationFailed; }, {enableHighAccuracy: true, timeout: 30000, maximumAge: 0});
      }}});
    return el("div", {}, [el("p", {"class": "hint", text: M.locationConsent}), button, shown, hidden]);
  }
  function decimalCheck(q, text) {
    if (!/^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$/.test(text)) return M.notNumber;
    return range(q, parseFloat(text));
  }
  var WIDGETS = {
    choice: {render: choiceWidget, read: readChoice},
    text: {render: function (q, value, label) {
      return el("textarea", {name: q.id, rows: "3", "aria-label": label, maxlength: String(q.max_length || 500), value: value || ""});
    }, read: readValue, check: function (q, text) {
      return text.length > (q.max_length || 500) ? fmt(M.tooLong, {max: q.max_length || 500}) : null;
    }},
    integer: {render: inputBox("text", "numeric"), read: readValue, check: function (q, text) {
      return /^[+-]?[0-9]+$/.test(text) ? range(q, parseInt(text, 10)) : M.notInteger;
    }},
    decimal: {render: inputBox("text", "decimal"), read: readValue, check: decimalCheck},
    date: {render: inputBox("date"), read: readValue, check: function (q, text) {
      return /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(text) ? null : M.badDate;
    }},
    time: {render: inputBox("time"), read: readValue, check: function (q, text) {
      return /^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$/.test(text) ? null : M.badTime;
    }},
    datetime: {render: inputBox("datetime-local"), read: readValue, check: function (q, text) {
      return /^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?$/.test(text) ? null : M.badDatetime;
    }},
    geopoint: {render: geopointWidget, read: readValue, text: geopointText},
    note: {shown: true, answered: false},     /* its label and hint only */
    calculate: {shown: false, answered: false}  /* computed: the server stores it */
  };
  /* A document saved on the device before the server sent each question's input and
     "multiple" (December 2026) names only its type: what those type names meant, frozen. */
  var SAVED_BEFORE_INPUTS = {multiple: {multiple: true}};
  function widget(q) {
    if (q.multiple === undefined) q.multiple = !!(SAVED_BEFORE_INPUTS[q.type] || {}).multiple;
    var w = WIDGETS[q.input || (q.choices && q.choices.length ? "choice" : q.type)] || WIDGETS.text;
    return {render: w.render, read: w.read, check: w.check, text: w.text,
            shown: w.shown !== false, answered: w.answered !== false};
  }

  /* --- screens ---------------------------------------------------------------------------- */
  function home() {
    iv = null;
    var cards = [];
    if (notice) { cards.push(el("p", {"class": "flash", role: "status", text: notice})); notice = ""; }
    SurveySync.loadPackage("draft:" + user).then(function (draft) {
      if (draft && draft.uuid && iv === null) {
        var resume = el("p", {"class": "card"}, [
          el("button", {type: "button", "class": "primary", id: "resume-draft", text: M.started + " " + new Date(draft.started_at).toLocaleString(),
            on: {click: function () { resumeDraft(draft); }}})]);
        if (screen.firstChild) screen.insertBefore(resume, screen.firstChild);
      }
    });
    cards.push(el("h1", {text: M.assignments}));
    var door = data.assignments.filter(function (a) { return a.mode === "door"; });
    if (!data.loadedFrom) cards.push(el("p", {"class": "card error-text", text: M.loadFailed}));
    else if (!door.length) cards.push(el("p", {"class": "card", text: M.noAssignments}));
    door.forEach(function (a) {
      var qv = data.questionnaires[a.questionnaire.version_id];
      var item = el("section", {"class": "card assignment", "data-assignment": String(a.id)}, [
        el("h2", {text: a.survey.name + " · " + (a.wave.name || a.wave.code)}),
        el("p", {"class": "path", text: a.locality.path})
      ]);
      if (!a.wave.open || a.ended) item.appendChild(el("p", {text: M.closed}));
      else if (qv) item.appendChild(el("button", {type: "button", "class": "primary start-interview", text: M.new,
        on: {click: function () { startScreen(a); }}}));
      cards.push(item);
    });
    show(cards);
  }

  function startScreen(a, caseId) {
    var qv = data.questionnaires[a.questionnaire.version_id];
    var localities = a.localities;
    var within = params.get("within");
    if (within) {
      var narrowed = localities.filter(function (l) { return (l.within || []).indexOf(within) >= 0; });
      if (narrowed.length) localities = narrowed;
    }
    var langs = el("fieldset", {}, [el("legend", {text: M.language})].concat(qv.languages.map(function (l, i) {
      return el("label", {"class": "choice"}, [el("input", {type: "radio", name: "_lang", value: l.code, checked: i === 0}), el("span", {text: l.name})]);
    })));
    var select = el("select", {id: "locality", name: "_locality"}, localities.map(function (l) {
      return el("option", {value: l.code, text: l.path});
    }));
    var consent = navigator.geolocation && !caseId ? el("label", {"class": "choice"}, [
      el("input", {type: "checkbox", id: "gps-consent"}), el("span", {text: M.gpsConsent})]) : null;
    var form = el("form", {"class": "card", id: "start-form", on: {submit: function (e) {
      e.preventDefault();
      var lang = form.querySelector('input[name="_lang"]:checked').value;
      begin(a, qv, lang, select.value, consent && consent.querySelector("input").checked, caseId);
    }}}, [
      el("h1", {text: caseId ? fmt(M.casePhone, {id: caseId}) : M.new}),
      el("p", {text: a.survey.name + " · " + (a.wave.name || a.wave.code)}),
      langs, el("label", {"for": "locality", text: M.locality}), select, consent,
      el("button", {type: "submit", "class": "primary", text: M.begin})
    ]);
    show([form]);
  }

  function begin(a, qv, lang, locality, gpsConsent, caseId) {
    iv = {uuid: SurveySync.uuid4(), assignment: a.id, mode: caseId ? "phone" : a.mode, qv: qv, lang: lang,
          locality: locality, answers: {}, group_seconds: {}, started_at: new Date().toISOString(),
          gps: null, caseId: caseId || null, errors: {}, versionId: a.questionnaire.version_id};
    if (gpsConsent) {
      navigator.geolocation.getCurrentPosition(function (pos) {
        if (iv) iv.gps = {consent: true, lat: pos.coords.latitude, lon: pos.coords.longitude, accuracy: pos.coords.accuracy};
      }, function () { /* no fix: the interview goes on without a location */ }, {timeout: 20000, maximumAge: 60000});
    }
    var first = nextGroup(-1);
    renderGroup(first === null ? 0 : first);
  }

  function saveDraft() {
    if (!iv) return;
    var copy = {};
    for (var k in iv) if (k !== "qv") copy[k] = iv[k];
    SurveySync.savePackage("draft:" + user, copy);
  }
  function resumeDraft(draft) {
    var qv = data.questionnaires[draft.versionId];
    if (!qv) return;
    iv = draft; iv.qv = qv;
    var g = nextGroup(-1);
    renderGroup(iv.group === undefined ? (g === null ? 0 : g) : iv.group);
  }
  function clearDraft() { return SurveySync.savePackage("draft:" + user, null); }

  function leaveGroup() {
    if (iv && iv.group !== undefined && iv.group !== null && groupStarted) {
      var id = iv.qv.groups[iv.group].id;
      iv.group_seconds[id] = Math.round(((iv.group_seconds[id] || 0) + (Date.now() - groupStarted) / 1000) * 10) / 10;
    }
    groupStarted = 0;
  }

  function questionField(q) {
    var label = tr(q.label, iv.lang);
    var value = answerOf(q);
    var optional = q.required || !widget(q).answered ? null : el("span", {"class": "optional", text: " (" + M.optional + ")"});
    var fs = el("fieldset", {"class": "question", id: "q-" + q.id, "data-question": q.id, "data-type": q.type}, [
      el("legend", {}, [label, optional])
    ]);
    if (q.hint) fs.appendChild(el("p", {"class": "hint", text: tr(q.hint, iv.lang)}));
    fs.appendChild(el("p", {"class": "error-text", role: "alert", hidden: true}));
    var w = widget(q);
    if (w.render) fs.appendChild(w.render(q, value, label));
    return fs;
  }

  function readGroup(form, group) {
    groupQuestions(group).forEach(function (q) {
      var w = widget(q);
      if (!w.read) return;  /* a note or a calculation: nothing entered */
      setAnswer(q, w.read(form, q));
      var other = form.querySelector('[name="' + q.id + '.other"]');
      if (other) setAnswer(q, other.value.trim() ? other.value : "", ".other");
    });
  }

  /* "rtl" for a questionnaire language written right to left (e.g. Uyghur), else null. */
  function direction(qv, lang) {
    return (qv.languages || []).some(function (l) { return l.code === lang && l.rtl; }) ? "rtl" : null;
  }

  function renderGroup(index) {
    leaveGroup();
    iv.group = index;
    var qv = iv.qv, group = qv.groups[index];
    var form = el("form", {"class": "interview", id: "interview", lang: iv.lang.replace("_", "-"),
                           dir: direction(qv, iv.lang), novalidate: true});
    form.appendChild(el("p", {"class": "progress"}, [
      el("span", {text: fmt(M.section, {n: index + 1, total: qv.groups.length})}),
      el("progress", {max: String(qv.groups.length), value: String(index + 1)})]));
    form.appendChild(el("h1", {text: tr(group.title, iv.lang)}));
    if (iv.caseId) form.appendChild(el("p", {"class": "hint", text: fmt(M.casePhone, {id: iv.caseId})}));
    if (group.repeat) renderInstances(form, group, index);
    else group.questions.forEach(function (q) { form.appendChild(questionField(q)); });
    var isFirst = previousGroup(index) === null;
    form.appendChild(el("div", {"class": "nav-buttons"}, [
      isFirst ? el("button", {type: "button", "class": "secondary", text: M.cancel, on: {click: cancel}})
              : el("button", {type: "button", "class": "secondary", value: "back", text: M.back, on: {click: function () {
                  readGroup(form, group); var p = previousGroup(index); renderGroup(p === null ? index : p); }}}),
      el("button", {type: "submit", "class": "primary", value: "next", text: M.next})
    ]));
    function update() {
      readGroup(form, group);
      var rel = relevance(qv, iv.answers), unchecked = false;
      groupQuestions(group).forEach(function (q) {
        if (!q.choice_filter) return;
        var allowed = allowedCodes(q, getterOf(rel, q));  /* only choices matching earlier answers are shown */
        Array.prototype.forEach.call(form.querySelectorAll('input[name="' + q.id + '"]'), function (input) {
          var ok = allowed.indexOf(input.value) >= 0;
          input.closest("label").style.display = ok ? "" : "none";  /* label.choice is display: flex */
          if (!ok && input.checked) { input.checked = false; unchecked = true; }
        });
      });
      if (unchecked) { readGroup(form, group); rel = relevance(qv, iv.answers); }
      groupQuestions(group).forEach(function (q) {
        var fs = form.querySelector('[data-question="' + q.id + '"]');
        fs.hidden = !rel[q.id] || !widget(q).shown;
        Array.prototype.forEach.call(fs.querySelectorAll("input, textarea, select"), function (i) { i.disabled = !rel[q.id]; });
      });
      saveDraft();
    }
    form.addEventListener("change", function (event) {
      var t = event.target;
      if (t.type === "checkbox" && t.checked) {
        Array.prototype.forEach.call(form.querySelectorAll('input[type="checkbox"][name="' + t.name + '"]'), function (o) {
          if (o !== t && (t.dataset.exclusive || o.dataset.exclusive)) o.checked = false;
        });
      }
      update();
    });
    form.addEventListener("input", update);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      readGroup(form, group);
      var rel = relevance(qv, iv.answers), bad = false;
      groupQuestions(group).forEach(function (q) {
        var fs = form.querySelector('[data-question="' + q.id + '"]');
        var message = rel[q.id] ? check(q, rel) : null;
        var box = fs.querySelector(".error-text");
        box.textContent = message || "";
        box.hidden = !message;
        fs.classList.toggle("has-error", !!message);
        if (message && !bad) { bad = true; fs.scrollIntoView({block: "center"}); }
      });
      if (bad) return;
      if (group.repeat && tooMany(group, rel)) return;  /* the message above says why */
      var following = nextGroup(index);
      if (following === null) renderReview(); else renderGroup(following);
    });
    update();
    show([form]);
    groupStarted = Date.now();
  }

  /* A repeat group's screen: one section per instance; instances are added and removed here
     unless the questionnaire fixes their number (repeat count). */
  function renderInstances(form, group, index) {
    var rel = relevance(iv.qv, iv.answers);
    if (tooMany(group, rel)) {
      instances(group, rel);
      form.appendChild(el("p", {"class": "card error-text too-many", role: "alert",
        text: fmt(M.tooManyInstances, {count: fixedCount(group, rel), max: limitOf(group)})}));
      return;
    }
    var list = instances(group, rel), open = fixedCount(group, rel) === null;
    list.forEach(function (inst, i) {
      var section = el("section", {"class": "card instance", "data-instance": String(i + 1)}, [
        el("h2", {text: tr(group.title, iv.lang) + " · " + fmt(M.instance, {n: i + 1})})]);
      group.questions.forEach(function (q) { section.appendChild(questionField(slot(group, i, q))); });
      if (open && list.length > (group.repeat.min || 0)) {
        section.appendChild(el("button", {type: "button", "class": "secondary remove-instance", text: M.removeInstance,
          on: {click: function () { readGroup(form, group); list.splice(i, 1); renderGroup(index); }}}));
      }
      form.appendChild(section);
    });
    if (open && (group.repeat.max === null || group.repeat.max === undefined || list.length < group.repeat.max)) {
      form.appendChild(el("p", {}, [el("button", {type: "button", "class": "secondary add-instance", text: M.addInstance,
        on: {click: function () { readGroup(form, group); list.push({}); renderGroup(index); }}})]));
    }
  }

  function cancel() {
    if (!window.confirm(M.cancelConfirm)) return;
    iv = null;
    clearDraft().then(goHome);
  }

  function answerText(q, value) {
    if (blank(value)) return M.noAnswer;
    if (widget(q).text) return widget(q).text(value);
    if (q.choices && q.choices.length) {
      var codes = Array.isArray(value) ? value : [value];
      var text = q.choices.filter(function (c) { return codes.indexOf(c.code) >= 0; })
        .map(function (c) { return tr(c.label, iv.lang); }).join("；");
      var other = answerOf(q, ".other");
      return other && q.other_code && codes.indexOf(q.other_code) >= 0 ? text + "（" + other + "）" : text;
    }
    return String(value);
  }

  function renderReview(serverErrors) {
    leaveGroup();
    iv.group = null;
    var qv = iv.qv, rel = relevance(qv, iv.answers), nodes = [el("h1", {text: M.review})];
    var errors = {};
    /* a server error names the question, or members[2].member_age in a repeat group */
    function errorKey(q) { return q.roster ? q.roster + "[" + (q.index + 1) + "]." + q.base : q.id; }
    (serverErrors || []).forEach(function (e) { var k = e.field || e.question; if (!(k in errors)) errors[k] = e.message; });
    var shownKeys = {};
    qv.groups.forEach(function (g) {
      groupQuestions(g).forEach(function (q) { if (rel[q.id]) shownKeys[errorKey(q)] = true; });
    });
    Object.keys(errors).forEach(function (k) {
      if (!shownKeys[k]) nodes.push(el("p", {"class": "flash flash-error", role: "alert", text: k + ": " + errors[k]}));
    });
    qv.groups.forEach(function (g, index) {
      var shown = groupQuestions(g).filter(function (q) { return rel[q.id] && widget(q).answered; });
      if (!shown.length) return;
      var dl = el("dl", {lang: iv.lang.replace("_", "-"), dir: direction(qv, iv.lang)});
      shown.forEach(function (q) {
        var e = errors[errorKey(q)];
        var label = tr(q.label, iv.lang);
        dl.appendChild(el("dt", {text: q.roster ? fmt(M.instance, {n: q.index + 1}) + " · " + label : label}));
        var dd = el("dd", {"data-answer": q.id, "class": e ? "has-error" : null, text: answerText(q, answerOf(q))});
        if (e) dd.appendChild(el("p", {"class": "error-text", role: "alert", text: e}));
        dl.appendChild(dd);
      });
      nodes.push(el("section", {"class": "card"}, [
        el("h2", {}, [tr(g.title, iv.lang), " ", el("button", {type: "button", "class": "link", text: M.change,
          on: {click: function () { renderGroup(index); }}})]), dl]));
    });
    var last = previousGroup(qv.groups.length);
    nodes.push(el("div", {"class": "nav-buttons"}, [
      el("button", {type: "button", "class": "secondary", text: M.back, on: {click: function () { renderGroup(last === null ? 0 : last); }}}),
      el("button", {type: "button", "class": "primary", id: "save-interview", value: "save", text: M.save, on: {click: save}})
    ]));
    saveDraft();
    show(nodes);
  }

  function save() {
    var now = new Date().toISOString();
    var paradata = {device: (navigator.userAgent || "").slice(0, 200), group_seconds: iv.group_seconds, saved_at: now};
    if (iv.gps) paradata.gps = iv.gps;
    var submission = {uuid: iv.uuid, assignment: iv.assignment, locality: iv.locality, mode: iv.mode,
                      language: iv.lang, started_at: iv.started_at, ended_at: now, answers: pruned(), paradata: paradata};
    if (iv.caseId) submission.cati_case = iv.caseId;
    var record = {uuid: iv.uuid, user: user, created: now, versionId: iv.versionId, caseId: iv.caseId,
                  label: (iv.locality || "") + " · " + new Date(iv.started_at).toLocaleString(), submission: submission};
    var caseId = iv.caseId;
    iv = null;
    SurveySync.saveInterview(record).then(clearDraft).then(function () {
      notice = M.savedLocally;
      return SurveySync.syncNow(user);
    }).then(function () {
      if (caseId && params.get("return")) window.location.assign(params.get("return"));
      else goHome();
    });
  }

  function reopen(record) {
    var a = data.assignments.filter(function (x) { return x.id === record.submission.assignment; })[0];
    var qv = data.questionnaires[record.versionId];
    if (!a || !qv) return;
    var s = record.submission;
    iv = {uuid: s.uuid, assignment: s.assignment, mode: s.mode, qv: qv, lang: s.language, locality: s.locality,
          answers: JSON.parse(JSON.stringify(s.answers)), group_seconds: (s.paradata || {}).group_seconds || {},
          started_at: s.started_at, gps: (s.paradata || {}).gps || null, caseId: record.caseId || null,
          versionId: record.versionId};
    renderReview(record.result && record.result.errors);
  }

  function goHome() {
    if (window.location.search) window.history.replaceState(null, "", root.dataset.home);
    params = new URLSearchParams("");
    home();
  }

  /* --- waiting interviews and sync status --------------------------------------------------- */
  var countEl = document.getElementById("waiting-count");
  var statusEl = document.getElementById("sync-status");
  var netEl = document.getElementById("net-state");
  var attention = document.getElementById("attention");
  var attentionList = document.getElementById("attention-list");
  var syncButton = document.getElementById("sync-now");

  function outcomeText(result) {
    if (!result) return "";
    var key = {conflict: "conflict", forbidden: "forbidden", closed: "waveClosed", invalid: "invalid",
               sent_back: "sentBack"}[result.outcome];
    return (key ? M[key] : M.refused) + (result.message ? " (" + result.message + ")" : "");
  }

  function render(c) {
    countEl.textContent = String(c.waiting);
    countEl.dataset.count = String(c.waiting);
    netEl.textContent = navigator.onLine === false ? "⚠ " + M.offline : "● " + M.online;
    netEl.className = "net-state " + (navigator.onLine === false ? "is-offline" : "is-online");
    var r = c.report;
    if (r) {
      var parts = [];
      if (r.sent) parts.push(fmt(M.sent, {n: r.sent}));
      if (r.error === "login") parts.push(M.loginAgain);
      else if (r.error === "server") parts.push(M.serverError);
      if (!r.error && !c.waiting && !c.refused) parts.push(M.synced);
      statusEl.textContent = parts.join(" ");
    }
    var refused = c.interviews.filter(function (i) { return i.state === "refused"; });
    attention.hidden = !refused.length;
    attentionList.textContent = "";
    refused.forEach(function (record) {
      var actions = [];
      var sentBack = record.result && record.result.outcome === "sent_back";
      if (record.result && (record.result.outcome === "invalid" || sentBack)) {
        actions.push(el("button", {type: "button", "class": "secondary", text: M.edit, on: {click: function () { reopen(record); }}}));
      }
      if (!sentBack) actions.push(el("button", {type: "button", "class": "secondary", text: M.discard, on: {click: function () {
        if (window.confirm(M.discardConfirm)) SurveySync.deleteInterview(user, record.uuid);
      }}}));
      attentionList.appendChild(el("li", {"class": "card", "data-uuid": record.uuid}, [
        el("p", {text: record.label}),
        el("p", {"class": "error-text", text: outcomeText(record.result)}),
        el("p", {}, actions)]));
    });
  }

  SurveySync.onChange(render);
  syncButton.addEventListener("click", function () {
    statusEl.textContent = M.syncing;
    SurveySync.syncNow(user);
  });
  window.addEventListener("online", function () { SurveySync.counts(user).then(render); });
  window.addEventListener("offline", function () { SurveySync.counts(user).then(render); });

  load().then(function () {
    SurveySync.start(user);
    /* Say when the app is on the device: from then on it opens without a network. */
    SurveySync.offlineReady.then(function (ok) {
      if (!ok) return;
      root.dataset.offlineReady = "1";
      var badge = document.getElementById("offline-ready");
      if (badge) badge.classList.remove("is-pending");
    });
    var caseId = params.get("case"), assignmentId = params.get("assignment");
    var a = assignmentId && data.assignments.filter(function (x) { return String(x.id) === assignmentId; })[0];
    if (a && caseId && data.questionnaires[a.questionnaire.version_id]) startScreen(a, parseInt(caseId, 10));
    else home();
    root.dataset.ready = "1";
  });
})();
