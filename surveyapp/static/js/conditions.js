/* Skip-logic conditions in the browser. The server parses every condition once
   (surveyapp/questionnaire/conditions.py) and sends its tree as JSON:
     {"format": 1, "source": "...", "tree": node}
   node: ["str", text] | ["num", number] | ["ref", qid] | ["current"] | ["prop", choice column]
       | [op, left, right] (op: and or = != < <= > >= + - * div mod) | ["neg", x]
       | ["regex", subject, javascript pattern (flag u, the server's safe subset rewritten)]
       | [function, ...arguments] (not selected count-selected count string-length today if coalesce int).
   This file only evaluates such trees, with the server's rules value for value; it has no
   parser. Anything it cannot evaluate (another format, an unknown node) counts as false, so a
   question whose condition cannot be checked is hidden: the tablet never shows what the server
   would skip. */
(function (global) {
  "use strict";
  var FORMAT = 1;

  /* Python's str.isspace() characters: the server's \s, str.strip() and str.split(). */
  var WS = "[\\t\\n\\x0b\\x0c\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
  var NUMBER_TEXT = new RegExp("^" + WS + "*([+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+))" + WS + "*$");
  var STRIP = new RegExp("^" + WS + "+|" + WS + "+$", "g");
  var SPLIT = new RegExp(WS + "+");

  function fail(what) { throw new Error("condition: " + what); }

  /* A value is a text, a number, a truth value or an array of codes (a multiple choice). */
  function answerValue(answer) {
    if (answer === undefined || answer === null) return "";
    if (typeof answer === "boolean" || typeof answer === "string" || typeof answer === "number") return answer;
    if (Array.isArray(answer)) return answer.map(function (item) { return String(item); });
    return String(answer);
  }
  function truth(v) {
    if (typeof v === "boolean") return v;
    if (typeof v === "number") return v !== 0 && !isNaN(v);
    return v.length > 0;
  }
  function strip(text) { return text.replace(STRIP, ""); }
  function looksNumeric(v) { return typeof v === "string" && NUMBER_TEXT.test(v); }
  function number(v) {
    if (typeof v === "boolean") return v ? 1 : 0;
    if (typeof v === "number") return v;
    var text = Array.isArray(v) ? v.join(" ") : v;
    var match = NUMBER_TEXT.exec(text);
    return match ? Number(match[1]) : NaN;
  }
  /* Python's repr() of a float that is not a whole number: shortest digits, exponent below 1e-4. */
  function floatRepr(x) {
    var parts = x.toExponential().split("e"), exponent = parseInt(parts[1], 10);
    if (exponent >= -4 && exponent < 16) return String(x);
    var e = Math.abs(exponent);
    return parts[0] + "e" + (exponent < 0 ? "-" : "+") + (e < 10 ? "0" : "") + e;
  }
  function string(v) {
    if (typeof v === "boolean") return v ? "true" : "false";
    if (typeof v === "number") {
      if (isNaN(v)) return "NaN";
      if (!isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
      return Number.isInteger(v) ? BigInt(v).toString() : floatRepr(v);
    }
    if (Array.isArray(v)) return v.join(" ");
    return v;
  }
  function codes(v) {
    if (Array.isArray(v)) return v;
    if (typeof v === "boolean") return [];
    return string(v).split(SPLIT).filter(function (c) { return c !== ""; });
  }
  function equal(a, b) {
    if (typeof a === "boolean" || typeof b === "boolean") return truth(a) === truth(b);
    if (typeof a === "number" || typeof b === "number") return number(a) === number(b);
    return string(a) === string(b);
  }
  /* Texts are ordered by code point, as in Python (not by UTF-16 unit). */
  function compareText(a, b) {
    var i = 0, j = 0;
    while (i < a.length && j < b.length) {
      var x = a.codePointAt(i), y = b.codePointAt(j);
      if (x !== y) return x < y ? -1 : 1;
      i += x > 0xffff ? 2 : 1;
      j += y > 0xffff ? 2 : 1;
    }
    return (i < a.length) - (j < b.length);
  }
  function ordered(op, a, b) {
    var order;
    var numeric = typeof a === "number" || typeof a === "boolean" || typeof b === "number" ||
      typeof b === "boolean" || (looksNumeric(a) && looksNumeric(b));
    if (numeric) {
      var x = number(a), y = number(b);
      if (isNaN(x) || isNaN(y)) return false;
      order = x < y ? -1 : (x > y ? 1 : 0);
    } else {
      var s = string(a), t = string(b);
      if (s === "" || t === "") return false;
      order = compareText(s, t);
    }
    if (op === "<") return order < 0;
    if (op === "<=") return order <= 0;
    if (op === ">") return order > 0;
    return order >= 0;
  }
  /* Arithmetic as the server's: a YYYY-MM-DD date is its days since 1970-01-01. */
  var DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
  function arithmeticNumber(v) {
    if (typeof v === "string") {
      var m = DATE.exec(v);
      if (m) {
        var y = Number(m[1]), mo = Number(m[2]), d = Number(m[3]);
        var date = new Date(0);
        date.setUTCFullYear(y, mo - 1, d);
        if (y < 1 || date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return NaN;
        return Math.round(date.getTime() / 86400000);
      }
    }
    return number(v);
  }
  function arithmetic(op, left, right) {
    var a = arithmeticNumber(left), b = arithmeticNumber(right);
    if (op === "+") return a + b;
    if (op === "-") return a - b;
    if (op === "*") return a * b;
    if (op === "div") return a / b;
    return a % b;
  }
  function pad(n, width) { var s = String(n); while (s.length < width) s = "0" + s; return s; }
  /* The device's date as YYYY-MM-DD; tests replace SurveyConditions.today. */
  function localToday() {
    var d = new Date();
    return pad(d.getFullYear(), 4) + "-" + pad(d.getMonth() + 1, 2) + "-" + pad(d.getDate(), 2);
  }
  var MAX_TEXT = 1000;  /* safe_regex.MAX_TEXT: a longer text never matches */
  var patterns = {};
  function regex(subject, source) {
    if (typeof source !== "string") fail("regex");
    var text = string(subject);
    if (Array.from(text).length > MAX_TEXT) return false;
    if (!Object.prototype.hasOwnProperty.call(patterns, source)) patterns[source] = new RegExp(source, "u");
    return patterns[source].test(text);
  }
  function arity(node, n) { if (node.length !== n + 1) fail(node[0] + " takes " + n); }

  function evaluateNode(node, get, current) {
    if (!Array.isArray(node)) fail("not a node");
    var kind = node[0];
    switch (kind) {
      case "str":
        arity(node, 1);
        if (typeof node[1] !== "string") fail("str");
        return node[1];
      case "num":
        arity(node, 1);
        if (typeof node[1] === "number") return node[1];
        if (node[1] === "Infinity" || node[1] === "-Infinity") return Number(node[1]);
        return fail("num");
      case "ref":
        arity(node, 1);
        return answerValue(get(node[1]));
      case "current":
        arity(node, 0);
        return answerValue(current);
      case "prop":  /* a choice filter's column of the choice being filtered; current is its columns */
        arity(node, 1);
        return answerValue(current && typeof current === "object" && Object.prototype.hasOwnProperty.call(current, node[1]) ? current[node[1]] : undefined);
      case "and":
        arity(node, 2);
        return truth(evaluateNode(node[1], get, current)) && truth(evaluateNode(node[2], get, current));
      case "or":
        arity(node, 2);
        return truth(evaluateNode(node[1], get, current)) || truth(evaluateNode(node[2], get, current));
      case "if":
        arity(node, 3);
        return evaluateNode(truth(evaluateNode(node[1], get, current)) ? node[2] : node[3], get, current);
      case "regex":
        arity(node, 2);
        return regex(evaluateNode(node[1], get, current), node[2]);
    }
    var args = node.slice(1).map(function (arg) { return evaluateNode(arg, get, current); });
    switch (kind) {
      case "=": arity(node, 2); return equal(args[0], args[1]);
      case "!=": arity(node, 2); return !equal(args[0], args[1]);
      case "<": case "<=": case ">": case ">=": arity(node, 2); return ordered(kind, args[0], args[1]);
      case "+": case "-": case "*": case "div": case "mod":
        arity(node, 2); return arithmetic(kind, args[0], args[1]);
      case "neg": arity(node, 1); return -arithmeticNumber(args[0]);
      case "today": arity(node, 0); return String(api.today());
      case "coalesce": arity(node, 2); return string(args[0]) !== "" ? args[0] : args[1];
      case "int": arity(node, 1); return Math.trunc(arithmeticNumber(args[0]));
      case "not": arity(node, 1); return !truth(args[0]);
      case "selected": arity(node, 2); return codes(args[0]).indexOf(strip(string(args[1]))) >= 0;
      case "count-selected": arity(node, 1); return codes(args[0]).length;
      case "count": arity(node, 1); return codes(args[0]).length;  /* count(${roster}): its instances */
      case "string-length": arity(node, 1); return Array.from(string(args[0])).length;
    }
    return fail("unknown node " + kind);
  }

  /* Whether ``condition`` (the server's JSON) holds: ``get(qid)`` gives a question's answer,
     ``current`` the value of ".". Anything that cannot be evaluated is false (fail closed). */
  function evaluate(condition, get, current) {
    try {
      if (!condition || condition.format !== FORMAT) fail("format");
      return truth(evaluateNode(condition.tree, get, current));
    } catch (e) {
      if (global.console) global.console.warn(e.message, condition && condition.source);
      return false;
    }
  }

  /* The value of an expression (a calculate question's calculation), "" when it cannot be
     evaluated. */
  function value(expression, get) {
    try {
      if (!expression || expression.format !== FORMAT) fail("format");
      return evaluateNode(expression.tree, get, undefined);
    } catch (e) {
      return "";
    }
  }

  /* The number of instances a repeat count asks for, as the server reads it
     (model.Repeat.expected): a number, or a text that is one; anything else asks for none. */
  var COUNT_TEXT = /^[ \t\n\r\f\v]*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)[ \t\n\r\f\v]*$/;  /* model._COUNT_TEXT */
  function repeatCount(expression, get) {
    var v = value(expression, get), n = 0;
    if (Array.isArray(v)) v = v.join(" ");  /* a multiple choice's codes, as the server joins them */
    if (typeof v === "number") n = v;
    else if (typeof v === "string" && COUNT_TEXT.test(v)) n = Number(v);
    return isFinite(n) && n > 0 ? Math.floor(n) : 0;
  }

  /* The most instances of a repeat group (model.Repeat.limit, sent as repeat.limit; a document
     from before it was sent: its max, else the server's MAX_INSTANCES). */
  function repeatLimit(repeat) { return repeat.limit || repeat.max || 100; }
  /* Whether a repeat group's count asks for more instances than its limit (model.Repeat.too_many):
     the tablet then builds none and says why, the server refuses the answers. */
  function repeatTooMany(repeat, get) {
    return !!(repeat && repeat.count) && repeatCount(repeat.count, get) > repeatLimit(repeat);
  }

  var api = {FORMAT: FORMAT, evaluate: evaluate, value: value, repeatCount: repeatCount,
             repeatLimit: repeatLimit, repeatTooMany: repeatTooMany, today: localToday};
  global.SurveyConditions = api;
})(typeof window !== "undefined" ? window : globalThis);
