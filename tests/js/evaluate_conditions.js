/* Evaluate conditions with the browser's evaluator (surveyapp/static/js/conditions.js) in node.
   One JSON request per input line, {"condition": <the server's JSON>, "answers": {...},
   "current": ..., "today": "YYYY-MM-DD"}; one JSON line back, {"result": true|false}
   (with "repeat_count": true, {"result": <the number of instances the count asks for>}; with
   "repeat": <the document's repeat>, {"result": <whether its count is above its limit>}). Used by
   tests/questionnaire/test_conditions_js.py to compare with the server's evaluator. */
"use strict";
const path = require("path");
const readline = require("readline");

require(path.join(__dirname, "..", "..", "surveyapp", "static", "js", "conditions.js"));
const conditions = globalThis.SurveyConditions;
console.warn = function () {};  // a refused condition is an expected answer here, not noise

const lines = readline.createInterface({input: process.stdin, terminal: false});
lines.on("line", (line) => {
  const request = JSON.parse(line);
  const answers = request.answers || {};
  if (request.today) conditions.today = () => request.today;
  const get = (qid) => (Object.prototype.hasOwnProperty.call(answers, qid) ? answers[qid] : undefined);
  const result = request.repeat
    ? conditions.repeatTooMany(request.repeat, get)  // a count above the group's limit
    : request.repeat_count
    ? conditions.repeatCount(request.condition, get)  // a repeat group's count
    : conditions.evaluate(request.condition, get, request.current);
  process.stdout.write(JSON.stringify({result: result}) + "\n");
});
