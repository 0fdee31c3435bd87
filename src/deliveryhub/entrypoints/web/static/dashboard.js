/* The ops dashboard: tiles, trend and split charts (plotly), exception board, drill-down, auto-refresh. */
(function () {
  "use strict";
  var cfgEl = document.getElementById("dashboard-config");
  if (!cfgEl) { return; }
  var cfg = JSON.parse(cfgEl.getAttribute("data-config"));
  var T = cfg.t;
  var catalog = {};
  var last = null;
  var selected = cfg.kpis[0];
  var lang = cfg.lang;
  var LABELS = cfg.labels || {};
  // The dimension values a split shows by name (the others are the shop's own names already).
  var DIM_KIND = { carrier: "carrier", channel: "channel" };

  function L(kind, key) {
    if (key === null || key === undefined || key === "") { return "—"; }
    if (kind === "source" && String(key).indexOf("carrier:") === 0) { return L("carrier", String(key).slice(8)); }
    var table = LABELS[kind] || {};
    return table[key] !== undefined ? table[key] : String(key);
  }
  function num(v, digits) {
    return v.toLocaleString(lang === "en" ? "en-US" : "ko-KR", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  function qs(params) {
    var parts = [];
    Object.keys(params).forEach(function (k) {
      var v = params[k];
      if (v === null || v === undefined || v === "") { return; }
      if (Array.isArray(v)) { v.forEach(function (x) { parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(x)); }); }
      else { parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(v)); }
    });
    return parts.join("&");
  }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } }).then(function (r) {
      if (!r.ok) { var e = new Error("HTTP " + r.status); e.status = r.status; throw e; }
      return r.json();
    });
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }
  function name(key) {
    var k = catalog[key];
    if (!k) { return key; }
    return lang === "en" ? k.name_en : k.name_ko;
  }
  function fmt(key, v) {
    if (v === null || v === undefined) { return "—"; }
    var unit = catalog[key] ? catalog[key].unit : "";
    // As kernel/timefmt.format_number does on the server: 11.6%, 2.35일 / 2.35 days, 1,234건.
    if (unit === "rate") { var pct = v * 100; return num(pct, pct !== 0 && Math.abs(pct) < 1 ? 2 : 1) + "%"; }
    var suffix = (cfg.units || {})[unit] || "";  // kernel/timefmt.unit_suffix, sent with the page
    if (unit === "count" || unit === "currency") { return num(Math.round(v), 0) + suffix; }
    return num(v, Math.round(v) === v ? 0 : 2) + suffix;
  }
  function targetText(key, k) {
    if (cfg.targets && cfg.targets[key]) { return cfg.targets[key]; }  // in the value's unit, from the server
    return k.target === null || k.target === undefined || typeof k.target !== "number" ? "—" : fmt(key, k.target);
  }
  function localTime(iso) {
    try {
      return new Date(iso).toLocaleString(lang === "en" ? "en-US" : "ko-KR", { timeZone: cfg.tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
    } catch (e) { return iso; }
  }
  function statusText(s) { return T["status_" + s] || s; }
  var baseLayout = { margin: { l: 40, r: 10, t: 10, b: 40 }, font: { family: "Noto Sans KR, sans-serif", size: 11 } };

  function renderTiles(data) {
    var box = document.getElementById("tiles");
    box.innerHTML = "";
    cfg.kpis.forEach(function (key) {
      var k = data.kpis[key];
      if (!k) { return; }
      var tile = el("div", "tile " + k.status + (key === selected ? " selected" : ""));
      tile.setAttribute("data-kpi", key);
      tile.setAttribute("role", "button");
      tile.setAttribute("tabindex", "0");
      tile.appendChild(el("div", "name", name(key)));
      tile.appendChild(el("div", "value", fmt(key, k.value)));
      var meta = el("div", "meta");
      meta.appendChild(el("span", "", T.target + " " + targetText(key, k)));
      meta.appendChild(el("span", "badge", statusText(k.status)));
      tile.appendChild(meta);
      if (k.status === "low_sample" && k.min_sample) {  // too few cases behind the value to call it red
        tile.appendChild(el("div", "note", T.sample.replace("{n}", num(k.sample || 0, 0)).replace("{min}", num(k.min_sample, 0))));
      }
      if (k.excluded && k.excluded.count) {  // rows left out on purpose, and why
        tile.appendChild(el("div", "note", T.excluded.replace("{n}", num(k.excluded.count, 0))
          .replace("{reason}", lang === "en" ? k.excluded.reason_en : k.excluded.reason_ko)));
      }
      if (k.reason) { tile.title = k.reason; }
      var spark = el("div", "spark");
      tile.appendChild(spark);
      box.appendChild(tile);
      var pts = k.series.filter(function (s) { return s.group === null || !cfg.by; });
      if (pts.length > 1 && window.Plotly) {
        Plotly.react(spark, [{ x: pts.map(function (s) { return s.period; }), y: pts.map(function (s) { return s.value; }),
          type: "scatter", mode: "lines", line: { width: 1.5, color: k.status === "breach" ? "#c62828" : "#2563eb" }, hoverinfo: "skip" }],
          { margin: { l: 0, r: 0, t: 0, b: 0 }, xaxis: { visible: false }, yaxis: { visible: false }, showlegend: false,
            paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)" }, { staticPlot: true, displayModeBar: false });
      }
      tile.addEventListener("click", function () { select(key); });
      tile.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { select(key); } });
    });
  }

  function renderCharts() {
    if (!last || !window.Plotly) { return; }
    var k = last.kpis[selected];
    if (!k) { return; }
    document.getElementById("trend-title").textContent = name(selected);
    document.getElementById("split-title").textContent = name(selected) + (cfg.by ? " · " + T[cfg.by] : "");
    var groups = {};
    k.series.forEach(function (s) { var g = s.group === null ? (cfg.by ? "—" : name(selected)) : groupName(s.group); (groups[g] = groups[g] || []).push(s); });
    var axis = chartAxis(selected);
    var traces = Object.keys(groups).map(function (g) {
      return { x: groups[g].map(function (s) { return periodName(s.period); }), y: groups[g].map(function (s) { return axis.y(s.value); }),
        name: g, type: "scatter", mode: "lines+markers", hovertemplate: "%{x}: %{y:,.2f}" + axis.suffix + "<extra></extra>" };
    });
    var layout = Object.assign({}, baseLayout, { showlegend: !!cfg.by, xaxis: { type: "category" }, yaxis: { ticksuffix: axis.suffix } });
    if (k.target !== null && typeof k.target === "number") {
      var ty = axis.y(k.target);
      layout.shapes = [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: ty, y1: ty, line: { color: "#c62828", dash: "dash", width: 1 } }];
    }
    Plotly.react("trend-chart", traces, layout, { displayModeBar: false, responsive: true });
    var split = document.getElementById("split-chart");
    if (!cfg.by) {  // nothing to split by: say how, instead of one bar
      if (window.Plotly) { Plotly.purge(split); }
      split.innerHTML = "";
      split.appendChild(el("p", "muted", T.split_hint));
      return;
    }
    var totals = {};
    k.series.forEach(function (s) { if (s.group === null) { return; } var g = groupName(s.group); (totals[g] = totals[g] || []).push(s.value); });
    var names = Object.keys(totals);
    var vals = names.map(function (g) { var v = totals[g].filter(function (x) { return x !== null; }); return v.length ? v.reduce(function (a, b) { return a + b; }, 0) / v.length : null; });
    Plotly.react(split, [{ x: names, y: vals.map(axis.y), type: "bar", marker: { color: "#2563eb" } }],
      Object.assign({}, baseLayout, { xaxis: { type: "category" }, yaxis: { ticksuffix: axis.suffix } }), { displayModeBar: false, responsive: true });
  }

  // A chart's axis in the value's unit: rates in %, durations with their unit.
  function chartAxis(key) {
    var unit = catalog[key] ? catalog[key].unit : "";
    var suffix = (cfg.units || {})[unit] || "";
    return { suffix: suffix, y: function (v) { return v === null || v === undefined ? null : unit === "rate" ? v * 100 : v; } };
  }
  // A period as people write it: 11월 3일 / 3 Nov (day), 2026년 47주 / week 47 (ISO week), 2026년 11월 / Nov 2026.
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function periodName(p) {
    var en = lang === "en";
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(p);
    if (m) { return en ? +m[3] + " " + MONTHS[+m[2] - 1] : +m[2] + "월 " + +m[3] + "일"; }
    m = /^(\d{4})-W(\d{2})$/.exec(p);
    if (m) { return en ? "week " + +m[2] + ", " + m[1] : m[1] + "년 " + +m[2] + "주"; }
    m = /^(\d{4})-(\d{2})$/.exec(p);
    if (m) { return en ? MONTHS[+m[2] - 1] + " " + m[1] : m[1] + "년 " + +m[2] + "월"; }
    return p;
  }
  function groupName(g) { return DIM_KIND[cfg.by] ? L(DIM_KIND[cfg.by], g) : g; }

  function select(key) {
    selected = key;
    Array.prototype.forEach.call(document.querySelectorAll(".tile"), function (t) {
      t.classList.toggle("selected", t.getAttribute("data-kpi") === key);
    });
    renderCharts();
    drill(key);
  }

  var drillAll = false;  // false: the orders to act on first (drill.js); true: every order behind the number
  function drill(key) {
    var box = document.getElementById("drill");
    document.getElementById("drill-title").textContent = name(key);
    if (!drillAll && window.dhDrill) {
      window.dhDrill(box, key, { cfg: cfg, showAll: function () { drillAll = true; drill(key); } });
      return;
    }
    box.innerHTML = "";
    box.appendChild(el("p", "muted", T.loading));
    getJSON("/v1/kpis/" + encodeURIComponent(key) + "/orders?" + qs({ from: cfg.from, to: cfg.to, tz: cfg.tz, grain: cfg.grain, limit: 50 }))
      .then(function (d) {
        box.innerHTML = "";
        box.setAttribute("data-scope", "all");
        var back = el("a", "drill-toggle", (cfg.drill_words || {}).show_actionable);
        back.href = "#";
        back.id = "drill-actionable";
        back.addEventListener("click", function (e) { e.preventDefault(); drillAll = false; drill(key); });
        box.appendChild(back);
        // The API's reason is English prose for developers; a Korean page says it in Korean.
        if (!d.orders.length) { box.appendChild(el("p", "muted", d.reason ? (lang === "en" ? d.reason : T.drill_not_orders) : T.no_orders)); return; }
        box.appendChild(el("p", "muted", T.orders_n.replace("{n}", num(d.total, 0))));
        var table = el("table", "drill-table");
        var head = el("tr");
        [T.order, T.time, T.carrier, T.value].forEach(function (h) { head.appendChild(el("th", "", h)); });
        table.appendChild(head);
        d.orders.forEach(function (o) {
          var tr = el("tr");
          var td = el("td");
          var a = el("a", "order-link", o.order_id);
          a.href = "/orders/" + encodeURIComponent(o.order_id) + (lang === "en" ? "?lang=en" : "");
          td.appendChild(a);
          tr.appendChild(td);
          tr.appendChild(el("td", "", o.at ? localTime(o.at) : "—"));
          tr.appendChild(el("td", "", L("carrier", o.carrier)));
          tr.appendChild(el("td", "", o.value === null ? "" : fmt(key, o.value)));
          table.appendChild(tr);
        });
        box.appendChild(table);
      })
      .catch(function () { box.innerHTML = ""; box.appendChild(el("p", "muted", T.error)); });
  }

  function renderExceptions() {
    var box = document.getElementById("exceptions");
    getJSON("/v1/exceptions?" + qs({ status: "open", limit: 1, lang: lang }))
      .then(function (d) {
        box.innerHTML = "";
        var table = el("table", "exc-table");
        var head = el("tr");
        [T.type, T.count].forEach(function (h) { head.appendChild(el("th", "", h)); });
        table.appendChild(head);
        var names = d.labels || {};  // the API names every type it counts (new types too)
        var types = Object.keys(d.counts || {}).filter(function (type) { return d.counts[type] > 0; });
        types.sort(function (a, b) { return d.counts[b] - d.counts[a]; }).forEach(function (type) {
          var tr = el("tr");
          tr.setAttribute("data-type", type);
          var td = el("td");
          var a = el("a", "exc-link", names[type] || L("exception", type));
          a.href = "/ops/exceptions?" + qs({ type: type, status: "open", lang: lang === "en" ? "en" : "" });
          td.appendChild(a);
          tr.appendChild(td);
          tr.appendChild(el("td", "exc-count", num(d.counts[type], 0)));
          table.appendChild(tr);
        });
        if (!types.length) {
          box.appendChild(el("p", "muted", (cfg.ops_words || {}).no_exceptions || ""));
        }
        box.appendChild(table);
      })
      .catch(function () { box.innerHTML = ""; box.appendChild(el("p", "muted", T.exceptions_unavailable)); });
  }

  function exportLinks() {
    var base = { from: cfg.from, to: cfg.to, grain: cfg.grain, by: cfg.by, tz: cfg.tz };
    document.getElementById("export-csv").href = "/v1/kpis/export?" + qs(Object.assign({ format: "csv" }, base));
    document.getElementById("export-xlsx").href = "/v1/kpis/export?" + qs(Object.assign({ format: "xlsx" }, base));
  }

  function refresh() {
    return getJSON("/v1/kpis?" + qs({ from: cfg.from, to: cfg.to, grain: cfg.grain, by: cfg.by, tz: cfg.tz, kpi: cfg.kpis.join(",") }))
      .then(function (d) {
        last = d;
        renderTiles(d);
        renderCharts();
        document.getElementById("updated-at").textContent = new Date().toLocaleTimeString(lang === "en" ? "en-US" : "ko-KR");
        document.body.setAttribute("data-loaded", "1");
      })
      .catch(function (e) {
        if (e.status === 401) { window.location.href = "/login?next=" + encodeURIComponent(window.location.pathname + window.location.search); return; }
        document.getElementById("tiles").textContent = T.error;
      });
  }

  exportLinks();
  getJSON("/v1/kpis/catalog").then(function (c) {
    c.kpis.forEach(function (k) { catalog[k.key] = k; });
  }).catch(function () { /* names fall back to keys */ }).then(function () {
    return refresh();
  }).then(function () {
    renderExceptions();
    drill(selected);
  });
  setInterval(function () { if (!document.hidden) { refresh(); renderExceptions(); } }, (cfg.refresh_seconds || 10) * 1000);
})();
