/* The KPI drill-down's first view: the orders someone can still act on for the KPI (views/drill.py),
   with current stage, days late, carrier and open exception; a link switches to every order behind
   the number. dashboard.js calls window.dhDrill(box, key, opts). */
(function () {
  "use strict";
  function el(tag, cls, text) {  // an element with its class and text
    return Object.assign(document.createElement(tag), cls ? { className: cls } : {}, text === undefined || text === null ? {} : { textContent: text });
  }
  function qs(params) {
    return Object.keys(params).filter(function (k) { return params[k] !== undefined && params[k] !== null && params[k] !== ""; })
      .map(function (k) { return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]); }).join("&");
  }
  window.dhDrill = function (box, key, opts) {
    var cfg = opts.cfg, W = cfg.drill_words || {}, T = cfg.t || {}, lang = cfg.lang;
    var suffix = lang === "en" ? "?lang=en" : "";
    box.innerHTML = "";
    box.appendChild(el("p", "muted", T.loading));
    fetch("/v1/kpis/" + encodeURIComponent(key) + "/orders?" + qs({ scope: "actionable", tz: cfg.tz, lang: lang, limit: 50 }),
      { credentials: "same-origin", headers: { accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (d) {
        box.innerHTML = "";
        box.setAttribute("data-scope", "actionable");
        var head = el("p", "muted");
        head.appendChild(el("strong", "", W.actionable));
        head.appendChild(document.createTextNode(" · " + (T.orders_n ? T.orders_n.replace("{n}", d.total.toLocaleString(lang === "en" ? "en-US" : "ko-KR")) : d.total)));
        var all = el("a", "drill-toggle", W.all_behind);
        all.href = "#";
        all.id = "drill-all";
        all.addEventListener("click", function (e) { e.preventDefault(); opts.showAll(); });
        head.appendChild(all);
        box.appendChild(head);
        if (!d.orders.length) { box.appendChild(el("p", "muted", T.no_orders)); return; }
        var table = el("table", "drill-table");
        var tr = el("tr");
        [T.order, T.current_stage, W.days_late, T.carrier, W.open_exception].forEach(function (h) { tr.appendChild(el("th", "", h)); });
        table.appendChild(tr);
        d.orders.forEach(function (o) {
          var row = el("tr");
          var td = el("td");
          var a = el("a", "order-link", o.order_id);
          a.href = "/orders/" + encodeURIComponent(o.order_id) + suffix;
          td.appendChild(a);
          row.appendChild(td);
          row.appendChild(el("td", "", o.stage_label));
          row.appendChild(el("td", o.days_late > 0 ? "late" : "", o.days_late > 0 ? String(o.days_late) : "—"));
          row.appendChild(el("td", "", o.carrier_label));
          row.appendChild(el("td", "", o.exception_label || "—"));
          table.appendChild(row);
        });
        box.appendChild(table);
      })
      .catch(function () { box.innerHTML = ""; box.appendChild(el("p", "muted", T.error)); });
  };
})();
