/* The ops work screens (/ops/...): each button posts to the hub's JSON API with the session cookie (the
   browser's Origin header is the CSRF proof), then the page reloads and says what happened. */
(function () {
  "use strict";
  var textsEl = document.getElementById("ops-texts");
  if (!textsEl) { return; }
  var P = JSON.parse(textsEl.textContent);
  var FLASH = "dh_ops_flash";

  function flash(text, kind) {
    var box = document.getElementById("flash");
    box.textContent = text;
    box.className = "flash " + (kind || "ok");
    box.setAttribute("data-kind", kind || "ok");
    box.hidden = false;
  }
  function reloadWith(text, kind) {
    try { sessionStorage.setItem(FLASH, JSON.stringify({ text: text, kind: kind })); } catch (e) { /* private mode */ }
    window.location.reload();
  }
  function post(url, body) {
    var opts = { method: "POST", credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = typeof body === "string" ? body : JSON.stringify(body);
    }
    return fetch(url, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) { return { ok: r.ok, status: r.status, body: j }; });
    });
  }
  function failed(res) {
    if (res.status === 401) { window.location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search); return; }
    flash(res.status === 403 ? P.forbidden : P.failed, "error");
  }
  function valueIn(card, cls) {
    var input = card ? card.querySelector(cls) : null;
    return input ? input.value.trim() : "";
  }

  try {
    var saved = sessionStorage.getItem(FLASH);
    if (saved) { sessionStorage.removeItem(FLASH); saved = JSON.parse(saved); flash(saved.text, saved.kind); }
  } catch (e) { /* nothing saved */ }

  // One button, one API call: acknowledge / resolve / assign an exception, approve / reject a
  // compensation, resend a dead letter, replay a quarantined item.
  document.addEventListener("click", function (ev) {
    var button = ev.target.closest ? ev.target.closest("button[data-post]") : null;
    if (!button) { return; }
    var card = button.closest("[data-id]");
    var body;
    if (button.hasAttribute("data-assign")) {
      var name = valueIn(card, ".assignee-input");
      if (!name) { card.querySelector(".assignee-input").focus(); return; }
      body = { assignee: name };
    } else if (button.hasAttribute("data-assign-me")) {
      body = { assignee: button.getAttribute("data-assign-me") };
    } else if (button.getAttribute("data-replay") === "fixed") {
      var text = card.querySelector("textarea.payload").value;
      try { JSON.parse(text); } catch (e) { flash(P.invalid_json, "error"); return; }
      body = text;
    }
    if (button.hasAttribute("data-with-note") || button.hasAttribute("data-assign") || button.hasAttribute("data-assign-me")) {
      var note = valueIn(card, ".note-input");
      if (note) { body = Object.assign(body || {}, { note: note }); }
    }
    button.disabled = true;
    post(button.getAttribute("data-post"), body).then(function (res) {
      button.disabled = false;
      if (!res.ok) { failed(res); return; }
      if (button.hasAttribute("data-replay")) {
        var r = (res.body.results || [])[0] || {};
        if (r.status === "rejected") {
          flash(P.still_rejected.replace("{message}", (r.error && r.error.message) || ""), "error");
          return;
        }
        reloadWith(P.replayed.replace("{status}", r.status || ""), "ok");
        return;
      }
      reloadWith(P[button.getAttribute("data-done")] || P.done, "ok");
    }, function () { button.disabled = false; flash(P.failed, "error"); });
  });

  // The inbox's bulk bar: the same three actions on every selected exception.
  var bulk = document.getElementById("bulk");
  if (bulk) {
    var picks = function () { return Array.prototype.slice.call(document.querySelectorAll("input.pick")); };
    var chosen = function () { return picks().filter(function (p) { return p.checked; }).map(function (p) { return Number(p.value); }); };
    var count = function () { var n = chosen().length; document.getElementById("picked").textContent = n ? P.total.replace("{n}", n) : ""; };
    document.getElementById("pick-all").addEventListener("change", function (ev) {
      picks().forEach(function (p) { p.checked = ev.target.checked; });
      count();
    });
    document.addEventListener("change", function (ev) { if (ev.target.classList && ev.target.classList.contains("pick")) { count(); } });
    bulk.addEventListener("click", function (ev) {
      var button = ev.target.closest ? ev.target.closest("button[data-bulk]") : null;
      if (!button) { return; }
      var ids = chosen();
      if (!ids.length) { flash(P.none_selected, "error"); return; }
      var body = { ids: ids, action: button.getAttribute("data-bulk") };
      if (body.action === "assign") {
        body.assignee = document.getElementById("bulk-assignee").value.trim();
        if (!body.assignee) { document.getElementById("bulk-assignee").focus(); return; }
      }
      var note = document.getElementById("bulk-note").value.trim();
      if (note) { body.note = note; }
      button.disabled = true;
      post("/v1/exceptions/bulk", body).then(function (res) {
        button.disabled = false;
        if (!res.ok) { failed(res); return; }
        var skipped = res.body.results.length - res.body.done;
        var text = P.done_n.replace("{n}", res.body.done) + (skipped ? " " + P.skipped_n.replace("{n}", skipped) : "");
        reloadWith(text, skipped ? "warn" : "ok");
      }, function () { button.disabled = false; flash(P.failed, "error"); });
    });
  }

  // Returns in progress: read from GET /v1/returns (the after-sales feature), stage and step SLA in words.
  var box = document.getElementById("returns");
  if (box) {
    var W = JSON.parse(box.getAttribute("data-words"));
    var lang = box.getAttribute("data-lang");
    var tz = box.getAttribute("data-tz");
    // Finished ones leave the screen; a failed inspection stays (someone must decide what happens).
    var DONE = { completed: 1, refunded: 1, cancelled: 1, refused: 1, closed: 1 };
    var el = function (tag, cls, text) {
      var e = document.createElement(tag);
      if (cls) { e.className = cls; }
      if (text !== undefined && text !== null) { e.textContent = text; }
      return e;
    };
    var when = function (iso) {
      if (!iso) { return "—"; }
      var d = new Date(iso);
      if (isNaN(d.getTime())) { return "—"; }
      return d.toLocaleString(lang === "en" ? "en-GB" : "ko-KR", { timeZone: tz, month: "short", day: "numeric", hour: "numeric", minute: "2-digit" });
    };
    var stage = function (s) { return W.status[s] || W.status.other; };
    var reason = function (s) { return W.reason[s] || W.reason.other; };
    var won = function (n) { return n === null || n === undefined ? "—" : P.won.replace("{n}", Number(n).toLocaleString("ko-KR")); };
    var empty = function (text, id) { box.innerHTML = ""; var p = el("p", "muted", text); p.id = id; box.appendChild(p); };
    fetch("/v1/returns?limit=200", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (r.status === 404 || r.status === 405) { return null; }
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then(function (d) {
        if (d === null) { empty(P.returns_unavailable, "unavailable"); return; }
        var rows = (d.returns || []).filter(function (x) { return !DONE[x.status]; });
        if (!rows.length) { empty(P.no_returns, "empty"); return; }
        box.innerHTML = "";
        var table = el("table");
        table.id = "returns-table";
        var head = el("tr");
        [P.order, P.kind, P.stage, P.waiting_for, P.reason, P.fee, P.requested_at, P.sla, P.steps].forEach(function (h) { head.appendChild(el("th", "", h)); });
        table.appendChild(head);
        rows.forEach(function (x) {
          var tr = el("tr", x.overdue ? "overdue" : "");
          tr.setAttribute("data-id", x.return_id);
          tr.setAttribute("data-status", x.status);
          var td = el("td");
          var a = el("a", "", x.order_id);
          a.href = "/orders/" + encodeURIComponent(x.order_id) + (lang === "en" ? "?lang=en" : "");
          td.appendChild(a);
          tr.appendChild(td);
          tr.appendChild(el("td", "", x.kind === "exchange" ? P.exchange : P.return));
          tr.appendChild(el("td", x.status === "inspection_failed" ? "bad" : "", stage(x.status)));
          tr.appendChild(el("td", "", x.waiting_for ? stage(x.waiting_for) : "—"));
          tr.appendChild(el("td", "", reason(x.reason_code)));
          var payer = x.fee_payer === "shop" ? P.fee_shop : x.fee_payer === "customer" ? P.fee_customer : "";
          tr.appendChild(el("td", "", won(x.fee) + (payer ? " (" + payer + ")" : "")));
          tr.appendChild(el("td", "", when(x.requested_at)));
          var sla = el("td", x.overdue ? "bad sla" : "sla", x.due_at ? when(x.due_at) + " · " + (x.overdue ? P.overdue : P.on_time) : "—");
          tr.appendChild(sla);
          tr.appendChild(el("td", "muted", (x.steps || []).map(function (s) { return stage(s.step) + " " + when(s.at); }).join(" → ")));
          table.appendChild(tr);
        });
        box.appendChild(table);
      })
      .catch(function () { empty(P.failed, "error"); })
      .then(function () { document.body.setAttribute("data-loaded", "1"); });
  } else {
    document.body.setAttribute("data-loaded", "1");
  }
})();
