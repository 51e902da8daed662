/* Managers' dashboard: fetch the wave's figures as JSON and redraw the tables in place,
   every few seconds (data-poll), without reloading the page. */
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  if (!root) return;
  var url = root.dataset.url, every = (parseFloat(root.dataset.poll) || 15) * 1000;

  function cell(text, cls) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "–" : String(text);
    if (cls) td.className = cls;
    return td;
  }
  function bar(done, target) {
    var td = document.createElement("td");
    if (!target) return td;
    var track = document.createElement("span"), fill = document.createElement("span");
    track.className = "bar-track"; fill.className = "bar";
    fill.style.width = Math.min(100, Math.round(100 * done / target)) + "%";
    track.appendChild(fill); td.appendChild(track);
    return td;
  }
  function fill(id, rows, make) {
    var body = document.querySelector("#" + id + " tbody");
    body.textContent = "";
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      make(r).forEach(function (td) { tr.appendChild(td); });
      body.appendChild(tr);
    });
  }
  function pct(v) { return v === null || v === undefined ? "–" : (100 * v).toFixed(1) + "%"; }
  function text(id, value) { document.getElementById(id).textContent = value; }

  function render(d) {
    text("dash-updated", new Date(d.generated_at).toLocaleTimeString());
    text("dash-completed", d.totals.completed);
    text("dash-target", d.totals.target);
    text("dash-rejected", d.totals.rejected);
    fill("dash-streets", d.streets, function (r) {
      var row = [cell(r.name), cell(r.completed, "num"), cell(r.target, "num"), bar(r.completed, r.target)];
      row[1].dataset.street = r.code;
      return row;
    });
    fill("dash-communities", d.communities, function (r) {
      var row = [cell(r.street_name), cell(r.name), cell(r.completed, "num"), cell(r.target, "num"), bar(r.completed, r.target)];
      row[2].dataset.community = r.code;
      return row;
    });
    fill("dash-quotas", d.quota_cells, function (r) {
      return [cell(r.street), cell((r.sex || "*") + " " + (r.age_group || "*")), cell(r.completed, "num"), cell(r.target, "num")];
    });
    fill("dash-enumerators", d.per_enumerator_day, function (r) {
      return [cell(r.day), cell(r.enumerator), cell(r.interviews, "num")];
    });
    text("dash-median", Object.keys(d.median_minutes).map(function (m) { return m + " " + d.median_minutes[m]; }).join(" · ") || "–");
    text("dash-flags", Object.keys(d.flags).map(function (f) { return f + " " + d.flags[f]; }).join(" · "));
    var r = d.rates;
    text("dash-rates", r.cases ? ["RR1 " + pct(r.RR1), "RR3 " + pct(r.RR3), "COOP1 " + pct(r.COOP1),
      "REF1 " + pct(r.REF1), "CON1 " + pct(r.CON1), "e " + (r.e === null ? "–" : r.e.toFixed(3))].join(" · ") : "–");
    root.dataset.loaded = String((parseInt(root.dataset.loaded, 10) || 0) + 1);
  }

  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(render)
      .catch(function () { /* keep the last figures; try again at the next tick */ })
      .then(function () { setTimeout(poll, every); });
  }
  poll();
})();
