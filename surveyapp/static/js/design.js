/* The questionnaire designer: condition pick-lists that write the condition text, fields by
   question type, more answer-option rows, and the live check (same messages as
   `surveyapp questionnaire validate`). Everything also works without JavaScript. */
(function () {
  "use strict";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function quote(value) {
    return "'" + String(value).replace(/'/g, "") + "'";
  }

  /* --- condition builder ------------------------------------------------------------- */
  function setupBuilder(builder) {
    var target = document.getElementById(builder.dataset.target);
    var questions = JSON.parse(builder.dataset.questions || "[]");
    var labels = builder.querySelector(".builder-labels").dataset;
    var rows = builder.querySelector(".builder-rows");
    if (builder.dataset.current) {
      questions = [{ id: ".", type: "", label: labels["this"], codes: [] }].concat(questions);
    }
    if (!questions.length) return;
    builder.hidden = false;

    function byId(id) {
      for (var i = 0; i < questions.length; i++) if (questions[i].id === id) return questions[i];
      return null;
    }

    function operators(question) {
      var ops = [["=", "="], ["!=", "≠"]];
      if (question && question.multiple) {
        ops = [["selected", labels.selected], ["notselected", labels.notselected]];
      } else if (question && (question.ordered || question.id === ".")) {
        ops = ops.concat([["<", "<"], ["<=", "≤"], [">", ">"], [">=", "≥"]]);
      }
      return ops.concat([["answered", labels.answered], ["empty", labels.empty]]);
    }

    function fillValue(row) {
      var question = byId(row.querySelector(".b-question").value);
      var holder = row.querySelector(".b-value-holder");
      var op = row.querySelector(".b-op").value;
      holder.innerHTML = "";
      if (op === "answered" || op === "empty") return;
      var field;
      if (question && question.codes && question.codes.length) {
        field = el("select", { "class": "b-value", "aria-label": "value" });
        question.codes.forEach(function (c) { field.appendChild(el("option", { value: c.code }, c.code + " " + (c.label || ""))); });
      } else {
        field = el("input", { "class": "b-value", "aria-label": "value" });
      }
      holder.appendChild(field);
    }

    function fillOps(row) {
      var question = byId(row.querySelector(".b-question").value);
      var select = row.querySelector(".b-op");
      select.innerHTML = "";
      operators(question).forEach(function (op) { select.appendChild(el("option", { value: op[0] }, op[1])); });
      fillValue(row);
    }

    function addRow() {
      var row = el("div", { "class": "builder-row" });
      if (rows.children.length) {
        var join = el("select", { "class": "b-join", "aria-label": labels.and + "/" + labels.or });
        join.appendChild(el("option", { value: "and" }, labels.and));
        join.appendChild(el("option", { value: "or" }, labels.or));
        row.appendChild(join);
      }
      var qselect = el("select", { "class": "b-question", "aria-label": "question" });
      questions.forEach(function (q) { qselect.appendChild(el("option", { value: q.id }, q.id === "." ? q.label : q.id + " " + (q.label || ""))); });
      row.appendChild(qselect);
      row.appendChild(el("select", { "class": "b-op", "aria-label": "operator" }));
      row.appendChild(el("span", { "class": "b-value-holder" }));
      var remove = el("button", { type: "button", "class": "small b-remove" }, labels.remove);
      row.appendChild(remove);
      rows.appendChild(row);
      qselect.addEventListener("change", function () { fillOps(row); });
      row.querySelector(".b-op").addEventListener("change", function () { fillValue(row); });
      remove.addEventListener("click", function () { rows.removeChild(row); });
      fillOps(row);
    }

    function compose(row) {
      var id = row.querySelector(".b-question").value;
      var question = byId(id);
      var subject = id === "." ? "." : "${" + id + "}";
      var op = row.querySelector(".b-op").value;
      var valueField = row.querySelector(".b-value");
      var value = valueField ? valueField.value.trim() : "";
      var numeric = question && question.numeric && /^-?\d+(\.\d+)?$/.test(value);
      var literal = numeric ? value : quote(value);
      if (op === "answered") return subject + " != ''";
      if (op === "empty") return subject + " = ''";
      if (op === "selected") return "selected(" + subject + ", " + quote(value) + ")";
      if (op === "notselected") return "not(selected(" + subject + ", " + quote(value) + "))";
      return subject + " " + op + " " + literal;
    }

    builder.querySelector(".builder-add").addEventListener("click", addRow);
    builder.querySelector(".builder-apply").addEventListener("click", function () {
      var parts = [];
      Array.prototype.forEach.call(rows.children, function (row, index) {
        var join = row.querySelector(".b-join");
        if (index > 0) parts.push(join ? join.value : "and");
        parts.push(compose(row));
      });
      target.value = parts.join(" ");
      target.dispatchEvent(new Event("input", { bubbles: true }));
    });
    addRow();
  }
  Array.prototype.forEach.call(document.querySelectorAll(".condition-builder"), setupBuilder);

  /* --- question form: fields by type, more option rows --------------------------------- */
  var typeSelect = document.getElementById("type");
  function showForType() {
    if (!typeSelect) return;
    Array.prototype.forEach.call(document.querySelectorAll(".for-types"), function (box) {
      box.hidden = box.dataset.types.split(" ").indexOf(typeSelect.value) < 0;
    });
  }
  if (typeSelect) { typeSelect.addEventListener("change", showForType); showForType(); }

  var addChoice = document.getElementById("add-choice");
  if (addChoice) {
    addChoice.addEventListener("click", function () {
      var body = document.getElementById("choice-rows");
      var last = body.querySelector("tr.choice-row:last-child");
      var index = body.querySelectorAll("tr.choice-row").length;
      var row = last.cloneNode(true);
      Array.prototype.forEach.call(row.querySelectorAll("input"), function (input) {
        input.name = input.name.replace(/^choice-\d+-/, "choice-" + index + "-");
        if (input.type === "checkbox") input.checked = false; else input.value = "";
        input.classList.remove("untranslated");
      });
      body.appendChild(row);
      row.querySelector("input").focus();
    });
  }

  /* --- live check ------------------------------------------------------------------------ */
  function showProblems(box, data) {
    box.innerHTML = "";
    var problems = data.problems || [];
    if (!problems.length) {
      box.appendChild(el("p", { "class": "ok" }, "✓"));
    } else {
      var list = el("ul", { "class": "problems" });
      problems.forEach(function (p) { var li = el("li"); li.appendChild(el("code", {}, p)); list.appendChild(li); });
      box.appendChild(list);
    }
    if (data.others) box.appendChild(el("p", { "class": "hint" }, "+" + data.others));
  }

  function liveCheck(form, build) {
    var box = document.getElementById("live-problems");
    var timer = null;
    function run() {
      fetch(form.dataset.checkUrl, { method: "POST", body: build(), credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (data) { showProblems(box, data); })
        .catch(function () { /* the check on saving still runs */ });
    }
    function later() { clearTimeout(timer); timer = setTimeout(run, 500); }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
  }

  var questionForm = document.getElementById("question-form");
  if (questionForm) liveCheck(questionForm, function () { return new FormData(questionForm); });
  var textForm = document.getElementById("text-form");
  if (textForm && !document.getElementById("source").readOnly) {
    liveCheck(textForm, function () { return new FormData(textForm); });
  }

  /* --- indicators: show the codes of the chosen question ------------------------------------ */
  var resultQuestion = document.querySelector(".result-question");
  var codesHelp = document.querySelector(".codes-help");
  function showCodes() {
    var option = resultQuestion.options[resultQuestion.selectedIndex];
    if (!option) return;
    var codes = JSON.parse(option.dataset.codes || "[]");
    codesHelp.textContent = codes.map(function (c) { return c.code + " = " + c.label; }).join(" · ");
  }
  if (resultQuestion && codesHelp) { resultQuestion.addEventListener("change", showCodes); showCodes(); }
})();

/* Preview: a group's heading is shown only while one of its questions is. */
(function () {
  "use strict";
  var form = document.getElementById("interview");
  if (!form) return;
  function headings() {
    Array.prototype.forEach.call(form.querySelectorAll("[data-group-title]"), function (h) {
      var shown = form.querySelector('fieldset[data-group="' + h.dataset.groupTitle + '"]:not([hidden])');
      h.hidden = !shown;
    });
  }
  form.addEventListener("change", headings);
  form.addEventListener("input", headings);
  headings();
})();

/* Actions that cannot be undone (publishing) ask first. */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm]"), function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
})();
