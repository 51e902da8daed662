/* Skip-logic conditions in the browser: the same small XLSForm-like language the server
   evaluates (surveyapp/questionnaire). The server re-checks everything; this only makes
   the screen follow the answers as they change. */
(function (global) {
  "use strict";

  function tokenize(src) {
    var tokens = [], i = 0, m;
    var re = /\s*(?:(\$\{[A-Za-z0-9_]+\})|('(?:[^']*)'|"(?:[^"]*)")|(\d+(?:\.\d+)?)|(<=|>=|!=|=|<|>|\(|\)|,|\.)|([A-Za-z_][A-Za-z0-9_-]*))/y;
    while (i < src.length) {
      if (/^\s*$/.test(src.slice(i))) break;
      re.lastIndex = i;
      m = re.exec(src);
      if (!m) throw new Error("syntax");
      i = re.lastIndex;
      if (m[1]) tokens.push({t: "ref", v: m[1].slice(2, -1)});
      else if (m[2]) tokens.push({t: "str", v: m[2].slice(1, -1)});
      else if (m[3]) tokens.push({t: "num", v: parseFloat(m[3])});
      else if (m[4]) tokens.push({t: "op", v: m[4]});
      else tokens.push({t: "name", v: m[5]});
    }
    return tokens;
  }

  function parse(src) {
    var toks = tokenize(src), pos = 0;
    function peek() { return toks[pos]; }
    function accept(t, v) {
      var k = toks[pos];
      if (k && k.t === t && (v === undefined || k.v === v)) { pos++; return k; }
      return null;
    }
    function expect(t, v) { var k = accept(t, v); if (!k) throw new Error("syntax"); return k; }
    function orExpr() {
      var left = andExpr();
      while (accept("name", "or")) { var l = left, r = andExpr(); left = (function (a, b) { return function (env) { return truthy(a(env)) || truthy(b(env)); }; })(l, r); }
      return left;
    }
    function andExpr() {
      var left = cmpExpr();
      while (accept("name", "and")) { var l = left, r = cmpExpr(); left = (function (a, b) { return function (env) { return truthy(a(env)) && truthy(b(env)); }; })(l, r); }
      return left;
    }
    function cmpExpr() {
      var left = primary(), k = peek();
      if (k && k.t === "op" && ["=", "!=", "<", "<=", ">", ">="].indexOf(k.v) >= 0) {
        pos++;
        var right = primary(), op = k.v;
        return function (env) { return compare(op, left(env), right(env)); };
      }
      return left;
    }
    function args() {
      var list = [];
      expect("op", "(");
      if (!accept("op", ")")) {
        list.push(orExpr());
        while (accept("op", ",")) list.push(orExpr());
        expect("op", ")");
      }
      return list;
    }
    function primary() {
      var k = peek();
      if (!k) throw new Error("syntax");
      if (accept("op", "(")) { var e = orExpr(); expect("op", ")"); return e; }
      if (accept("op", ".")) return function (env) { return env.current; };
      if (k.t === "ref") { pos++; return function (env) { return env.get(k.v); }; }
      if (k.t === "str" || k.t === "num") { pos++; return function () { return k.v; }; }
      if (k.t === "name") {
        pos++;
        var a = args();
        if (k.v === "not") return function (env) { return !truthy(a[0](env)); };
        if (k.v === "selected") return function (env) {
          var v = a[0](env), code = String(a[1](env));
          return Array.isArray(v) ? v.indexOf(code) >= 0 : String(v) === code;
        };
        if (k.v === "count-selected") return function (env) {
          var v = a[0](env); return Array.isArray(v) ? v.length : (v === "" ? 0 : 1);
        };
        if (k.v === "string-length") return function (env) { return String(scalar(a[0](env))).length; };
        throw new Error("unknown function " + k.v);
      }
      throw new Error("syntax");
    }
    var expr = orExpr();
    if (pos !== toks.length) throw new Error("syntax");
    return expr;
  }

  function scalar(v) { return Array.isArray(v) ? v.join(" ") : (v === undefined || v === null ? "" : v); }
  function truthy(v) {
    if (Array.isArray(v)) return v.length > 0;
    if (typeof v === "number") return v !== 0 && !isNaN(v);
    if (typeof v === "boolean") return v;
    return v !== "" && v !== undefined && v !== null;
  }
  function compare(op, a, b) {
    a = scalar(a); b = scalar(b);
    var na = Number(a), nb = Number(b);
    var numeric = (typeof a === "number" || typeof b === "number") && a !== "" && b !== "" && !isNaN(na) && !isNaN(nb);
    if (numeric) { a = na; b = nb; } else { a = String(a); b = String(b); if ((op !== "=" && op !== "!=") && (a === "" || b === "")) return false; }
    switch (op) {
      case "=": return a === b;
      case "!=": return a !== b;
      case "<": return a < b;
      case "<=": return a <= b;
      case ">": return a > b;
      case ">=": return a >= b;
    }
    return false;
  }

  var cache = {};
  function evaluate(src, get, current) {
    try {
      if (!cache[src]) cache[src] = parse(src);
      return truthy(cache[src]({get: get, current: current === undefined ? "" : current}));
    } catch (e) {
      return true;  /* the server decides; never hide a question because of a script error */
    }
  }

  global.SurveyConditions = {evaluate: evaluate, parse: parse};
})(window);
