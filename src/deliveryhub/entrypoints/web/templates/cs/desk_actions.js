// The desk's order panel (issue 16): on an open ticket, the agent acts on its order through the same
// APIs as everyone else — cancel, change the address (normalised, then confirmed), open a return or
// exchange, resend a notice (POST /v1/orders/{id}/actions/{action}), pass or fail a return's inspection
// (POST /v1/returns/{id}/inspection), approve a compensation (POST /v1/compensations/{id}/approve) — and
// sees the ticket's photos and the order's latest events. Each control only when the role may use it
// (GET /v1/tickets/{id}/actions says which). desk.js renders the ticket; this adds the panel after it.
(function () {
  "use strict";
  var root = document.getElementById("desk");
  var view = document.getElementById("view");
  if (!root || !view) { return; }
  var S = JSON.parse(document.getElementById("i18n").textContent);
  var lang = root.getAttribute("data-lang") || "ko";
  var LABELS = S.labels || {};
  var cache = {};
  var busy = false;

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { e.textContent = attrs[k]; } else if (k === "cls") { e.className = attrs[k]; } else { e.setAttribute(k, attrs[k]); }
    });
    (kids || []).forEach(function (c) { if (c) { e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); } });
    return e;
  }
  function L(kind, key) { return (LABELS[kind] && LABELS[kind][key]) || key; }
  function said(j) {
    // Order actions answer message_ko/message_en; the returns routes message/message_en (errors under error).
    var src = j.error && !j.message_ko && !j.message ? j.error : j;
    return (lang === "en" ? src.message_en : (src.message_ko || src.message)) || src.message || "";
  }
  function call(method, path, body) {
    return fetch(path, {method: method, credentials: "same-origin",
      headers: body ? {"content-type": "application/json"} : {}, body: body ? JSON.stringify(body) : undefined})
      .then(function (r) { return r.json().then(function (j) { j._status = r.status; return j; }); });
  }
  function fmt(iso) {
    if (!iso) { return "-"; }
    var d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleString(lang === "en" ? "en-GB" : "ko-KR", {timeZone: root.getAttribute("data-tz") || "Asia/Seoul"});
  }
  function ticketShown() {
    var h = view.querySelector("h2");
    var m = h && /^#(\d+)\s/.exec(h.textContent || "");
    return m ? parseInt(m[1], 10) : null;
  }

  function say(status, j) {
    status.textContent = said(j);
    status.className = j.ok === false || j._status >= 400 ? "act-status bad" : "act-status good";
  }

  function actionsBox(d, status, after) {
    var oid = d.order_id;
    function act(action, body) {
      return call("POST", "/v1/orders/" + encodeURIComponent(oid) + "/actions/" + action, body || {})
        .then(function (j) { say(status, j); return j; });
    }
    var reason = el("input", {type: "text", id: "act-reason", maxlength: "200", placeholder: S.act_reason});
    var cancel = el("button", {type: "button", id: "act-cancel", text: S.act_cancel});
    cancel.addEventListener("click", function () {
      if (!window.confirm(S.act_cancel_sure)) { return; }
      act("cancel", {reason: reason.value || null}).then(after);
    });
    var resend = el("button", {type: "button", id: "act-resend", text: S.act_resend});
    resend.addEventListener("click", function () { act("resend_notice", {reason: reason.value || null}).then(after); });

    var addr = el("input", {type: "text", id: "act-address", maxlength: "600", placeholder: S.act_address_placeholder});
    var check = el("button", {type: "button", id: "act-address-check", text: S.act_address_check});
    var preview = el("div", {id: "act-address-preview", cls: "muted"});
    check.addEventListener("click", function () {
      preview.textContent = "";
      if (!addr.value.trim()) { return; }
      act("change_address", {address: addr.value}).then(function (j) {
        if (j.code !== "confirm_address") { return; }
        var a = j.address;
        var ok = el("button", {type: "button", id: "act-address-confirm", cls: "primary", text: S.act_address_confirm});
        ok.addEventListener("click", function () {
          act("change_address", {address: {zip: a.zip, line1: a.line1, line2: a.line2 || null}, confirm: true}).then(function () {
            preview.textContent = "";
            addr.value = "";
            after();
          });
        });
        var note = lang === "en" ? a.note_en : a.note_ko;
        preview.appendChild(el("div", {}, [el("strong", {text: "[" + a.zip + "] " + a.line1 + (a.line2 ? ", " + a.line2 : "")}),
          note ? el("span", {cls: "warn", text: " " + note}) : null, " ", ok]));
      });
    });

    var code = el("select", {id: "act-reason-code"});
    ["change_of_mind", "damaged", "defective", "wrong_item", "not_as_described", "other"].forEach(function (k) {
      code.appendChild(el("option", {value: k, text: L("reason_code", k) === k ? (S["rc_" + k] || k) : L("reason_code", k)}));
    });
    var ret = el("button", {type: "button", id: "act-return", text: S.act_return});
    var exc = el("button", {type: "button", id: "act-exchange", text: S.act_exchange});
    function open(kind) {
      act(kind, {reason_code: code.value, reason: reason.value || null}).then(after);
    }
    ret.addEventListener("click", function () { open("return"); });
    exc.addEventListener("click", function () { open("exchange"); });

    return el("div", {cls: "act-grid"}, [
      el("div", {}, [reason]),
      el("div", {}, [cancel, " ", resend]),
      el("div", {}, [addr, " ", check, preview]),
      el("div", {}, [code, " ", ret, " ", exc])
    ]);
  }

  function returnsBox(d, status, after) {
    var box = el("div", {id: "act-returns"});
    call("GET", "/v1/returns?order_id=" + encodeURIComponent(d.order_id)).then(function (j) {
      (j.returns || []).forEach(function (r) {
        var row = el("div", {cls: "act-row", "data-return": r.return_id}, [
          el("span", {text: r.return_id + " · " + (S["rk_" + r.kind] || r.kind) + " · " + (S["rs_" + r.status] || r.status) +
            (r.fee ? " · " + r.fee.toLocaleString() + (lang === "en" ? " KRW" : "원") : "")})]);
        if (d.can.inspect && ["pickup_booked", "picked_up"].indexOf(r.status) >= 0) {
          var got = el("button", {type: "button", cls: "act-received", text: S.act_received});
          got.addEventListener("click", function () {
            call("POST", "/v1/returns/" + encodeURIComponent(r.return_id) + "/received").then(function (k) { say(status, k); after(); });
          });
          row.appendChild(el("span", {}, [" ", got]));
        }
        if (d.can.inspect && ["picked_up", "received"].indexOf(r.status) >= 0) {
          var note = el("input", {type: "text", cls: "act-note", maxlength: "200", placeholder: S.act_inspect_note});
          var pic = el("select", {cls: "act-inspect-photo"}, [el("option", {value: "", text: S.act_no_photo})]);
          (d.photos || []).forEach(function (p, i) { pic.appendChild(el("option", {value: p.id, text: S.act_photo + " " + (i + 1)})); });
          ["pass", "fail"].forEach(function (res) {
            var b = el("button", {type: "button", cls: "act-inspect-" + res, text: S["act_inspect_" + res]});
            b.addEventListener("click", function () {
              call("POST", "/v1/returns/" + encodeURIComponent(r.return_id) + "/inspection",
                {result: res, note: note.value || null, photo_id: pic.value || null})
                .then(function (k) { say(status, k); after(); });
            });
            row.appendChild(el("span", {}, [" ", b]));
          });
          row.appendChild(el("span", {}, [" ", note, " ", pic]));
        }
        box.appendChild(row);
      });
    }).catch(function () {});
    return box;
  }

  function compensationsBox(d, status, after) {
    var box = el("div", {id: "act-compensations"});
    if (!d.can.read_compensations) { return box; }
    call("GET", "/v1/compensations?order_id=" + encodeURIComponent(d.order_id)).then(function (j) {
      (j.compensations || j.items || []).forEach(function (c) {
        var row = el("div", {cls: "act-row"}, [el("span", {text: L("compensation", c.kind) + " · " + (c.amount || 0).toLocaleString() + (lang === "en" ? " KRW" : "원") + " · " + L("compensation_status", c.status)})]);
        if (d.can.approve_compensation && c.status === "pending_approval") {
          var b = el("button", {type: "button", cls: "act-approve", text: S.act_approve});
          b.addEventListener("click", function () {
            call("POST", "/v1/compensations/" + c.id + "/approve").then(function (k) {
              status.textContent = k._status < 400 ? S.act_approved : ((k.error && k.error.message) || k._status);
              after();
            });
          });
          row.appendChild(el("span", {}, [" ", b]));
        }
        box.appendChild(row);
      });
    }).catch(function () {});
    return box;
  }

  function eventsBox(d) {
    var list = el("ol", {id: "act-events", cls: "act-events"});
    call("GET", "/v1/orders/" + encodeURIComponent(d.order_id)).then(function (o) {
      (o.events || []).slice(-8).reverse().forEach(function (e) {
        list.appendChild(el("li", {"data-type": e.type}, [fmt(e.occurred_at) + " · " + L("event_type", e.type) + (e.manual ? " (" + (S.manual || "") + ")" : "")]));
      });
    }).catch(function () {});
    return el("div", {}, [el("h4", {text: S.act_events}), list]);
  }

  function photosBox(d) {
    if (!d.can.view_photos || !(d.photos || []).length) { return null; }
    var strip = el("div", {id: "act-photos", cls: "act-photos"});
    d.photos.forEach(function (p) {
      var img = el("img", {src: p.url, alt: S.act_photo + " " + fmt(p.created_at), width: "96", height: "96", loading: "lazy", "data-photo": p.id});
      strip.appendChild(el("a", {href: p.url, target: "_blank", rel: "noopener"}, [img]));
    });
    return el("div", {}, [el("h4", {text: S.act_photos}), strip]);
  }

  function panel(d) {
    var status = el("div", {id: "act-status", cls: "act-status", role: "status"});
    var sec = el("section", {id: "desk-actions", cls: "desk-actions", "data-ticket": String(d.ticket_id)}, [el("h3", {text: S.act_title + (d.order_id ? " · " + d.order_id : "")})]);
    function after() { delete cache[d.ticket_id]; refresh(true); }
    if (d.order_id && d.can.act) { sec.appendChild(actionsBox(d, status, after)); }
    sec.appendChild(status);
    if (d.order_id) {
      sec.appendChild(returnsBox(d, status, after));
      sec.appendChild(compensationsBox(d, status, after));
      sec.appendChild(eventsBox(d));
    }
    var photos = photosBox(d);
    if (photos) { sec.appendChild(photos); }
    return sec;
  }

  function refresh(force) {
    var id = ticketShown();
    if (id == null || busy) { return; }
    var old = document.getElementById("desk-actions");
    if (old && !force && old.getAttribute("data-ticket") === String(id)) { return; }
    var keepStatus = old ? (document.getElementById("act-status") || {}).textContent : "";
    busy = true;
    var got = cache[id] ? Promise.resolve(cache[id]) : call("GET", "/v1/tickets/" + id + "/actions");
    got.then(function (d) {
      busy = false;
      if (d._status && d._status >= 400) { return; }
      cache[id] = d;
      if (ticketShown() !== id) { return; }
      var again = document.getElementById("desk-actions");
      if (again) { again.remove(); }
      var sec = panel(d);
      view.insertBefore(sec, view.children[1] || null);
      if (force && keepStatus) { document.getElementById("act-status").textContent = keepStatus; }
    }).catch(function () { busy = false; });
  }

  new MutationObserver(function () { refresh(false); }).observe(view, {childList: true});
})();
