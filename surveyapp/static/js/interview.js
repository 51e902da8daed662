/* Follow the skip logic on the current page as answers change: show the questions that
   become relevant, hide and disable (so they are not sent) those that no longer are. */
(function () {
  "use strict";
  var form = document.getElementById("interview");
  if (!form || !window.SurveyConditions) return;
  var questions = Array.prototype.slice.call(form.querySelectorAll("fieldset[data-question]"));

  function valueOf(qid) {
    var fields = form.querySelectorAll('[name="' + qid + '"]');
    var values = [], multiple = false;
    Array.prototype.forEach.call(fields, function (el) {
      if (el.disabled) return;
      if (el.type === "checkbox") { multiple = true; if (el.checked) values.push(el.value); }
      else if (el.type === "radio") { if (el.checked) values.push(el.value); }
      else if (el.value !== "") values.push(el.value);
    });
    var fs = form.querySelector('fieldset[data-question="' + qid + '"]');
    if (multiple || (fs && fs.dataset.multiple) || values.length > 1) return values;
    return values.length ? values[0] : "";
  }

  /* A condition as the server sent it (its parsed tree as JSON); one that cannot be read hides. */
  function holds(json) {
    if (!json) return true;
    try { return window.SurveyConditions.evaluate(JSON.parse(json), valueOf); } catch (e) { return false; }
  }

  function update() {
    questions.forEach(function (fs) {
      var show = holds(fs.dataset.groupRelevant) && holds(fs.dataset.relevant);
      fs.hidden = !show;
      Array.prototype.forEach.call(fs.querySelectorAll("input, select, textarea"), function (el) {
        el.disabled = !show;
      });
    });
    var shown = questions.filter(function (fs) { return !fs.hidden; }).map(function (fs) { return fs.dataset.question; });
    var shownField = form.querySelector('input[name="_shown"]');
    if (shownField) shownField.value = shown.join(",");
  }

  form.addEventListener("change", function (event) {
    var el = event.target;
    if (el.type === "checkbox" && el.checked) {
      var siblings = form.querySelectorAll('input[type="checkbox"][name="' + el.name + '"]');
      Array.prototype.forEach.call(siblings, function (other) {
        if (other !== el && (el.dataset.exclusive || other.dataset.exclusive)) other.checked = false;
      });
    }
    update();
  });
  form.addEventListener("input", update);
  update();
})();
