// The CS desk: queue (waiting live chats first, then SLA due time; search, filters, counts, pages), one-screen ticket view with order context, reply box.
(function () {
  "use strict";
  var root = document.getElementById("desk");
  var T = JSON.parse(document.getElementById("i18n").textContent);
  var lang = root.getAttribute("data-lang");
  var me = root.getAttribute("data-user");
  var canAct = root.getAttribute("data-can-act") === "yes";
  var tz = root.getAttribute("data-tz") || undefined;
  var LABELS = T.labels || {};
  var queueEl = document.getElementById("queue");
  var view = document.getElementById("view");
  var filter = "";
  var current = null;

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { e.textContent = attrs[k]; } else if (k === "cls") { e.className = attrs[k]; } else { e.setAttribute(k, attrs[k]); }
    });
    (kids || []).forEach(function (c) { if (c) { e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); } });
    return e;
  }
  // The name people read for a stored code (the one label table, sent with the page).
  function L(kind, key) {
    if (key === null || key === undefined || key === "") { return "-"; }
    if (kind === "source" && String(key).indexOf("carrier:") === 0) { return L("carrier", String(key).slice(8)); }
    var table = LABELS[kind] || {};
    return table[key] !== undefined ? table[key] : String(key);
  }
  function fmt(iso) {
    if (!iso) { return "-"; }
    var d = new Date(iso);
    try {  // the shop's time zone, as people write it: 11월 5일 오후 2:30 / 5 Nov, 14:30
      return d.toLocaleString(lang === "en" ? "en-GB" : "ko-KR", {month: lang === "en" ? "short" : "long", day: "numeric", hour: "2-digit", minute: "2-digit", timeZone: tz});
    } catch (e) { return d.toLocaleString(); }
  }
  function api(method, path, body) {
    return fetch(path, {method: method, credentials: "same-origin",
      headers: body ? {"content-type": "application/json"} : {}, body: body ? JSON.stringify(body) : undefined})
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) { throw new Error((j.error && j.error.message) || r.status); } return j; }); });
  }
  function due(t) { return t.first_response_at ? (t.next_due || t.resolve_due) : t.first_due; }

  var PAGE = 50;
  var offset = 0;
  function queueQuery() {
    var p = ["limit=" + PAGE, "offset=" + offset];
    if (filter === "mine") { p.push("assignee=" + encodeURIComponent(me)); }
    else if (filter) { p.push("status=" + filter); }
    var q = document.getElementById("q").value.trim();
    if (q) { p.push("q=" + encodeURIComponent(q)); }
    var ch = document.getElementById("f-channel").value;
    if (ch) { p.push("channel=" + encodeURIComponent(ch)); }
    var pr = document.getElementById("f-priority").value;
    if (pr) { p.push("priority=" + encodeURIComponent(pr)); }
    if (document.getElementById("f-breached").checked) { p.push("breached=true"); }
    return "/v1/tickets?" + p.join("&");
  }
  function showCounts(j) {
    Array.prototype.forEach.call(root.querySelectorAll("[data-count]"), function (s) {
      var n = j.counts[s.getAttribute("data-count")];
      s.textContent = n == null ? "" : n.toLocaleString(lang === "en" ? "en-US" : "ko-KR");
    });
    document.getElementById("waiting").hidden = !j.counts.waiting_chat;
    var from = j.total ? j.offset + 1 : 0, to = j.offset + j.tickets.length;
    document.getElementById("range").textContent = T.page_of.replace("{from}", from.toLocaleString()).replace("{to}", to.toLocaleString())
      .replace("{total}", j.total.toLocaleString(lang === "en" ? "en-US" : "ko-KR"));
    document.getElementById("prev").disabled = j.offset <= 0;
    document.getElementById("next").disabled = to >= j.total;
  }
  function waitingChat(t) { return t.channel === "chat" && t.session_id && t.status !== "solved" && t.awaiting_reply_since; }

  function loadQueue() {
    return api("GET", queueQuery()).then(function (j) {
      queueEl.textContent = "";
      showCounts(j);
      if (!j.tickets.length) { queueEl.appendChild(el("li", {cls: "muted", text: T.no_tickets})); }
      j.tickets.forEach(function (t) {
        var d = due(t);
        var late = d && new Date(d) < new Date() && t.status !== "solved";
        var li = el("li", {"data-id": String(t.id), cls: current === t.id ? "sel" : ""}, [
          el("div", {}, [el("span", {cls: "badge " + t.priority, text: L("priority", t.priority)}),
            waitingChat(t) ? el("span", {cls: "badge waiting", text: T.waiting_chat}) : null,
            late ? el("span", {cls: "badge overdue", text: T.overdue}) : null,
            el("strong", {text: "#" + t.id + " " + t.subject})]),
          el("div", {cls: "meta", text: [L("contact_channel", t.channel), t.order_id || "", t.assignee || T.unassigned, T.due + " " + fmt(d)].filter(Boolean).join(" · ")})
        ]);
        li.addEventListener("click", function () { open(t.id); });
        queueEl.appendChild(li);
      });
    }).catch(function (e) { queueEl.textContent = T.error + ": " + e.message; });
  }
  function reload() { offset = 0; return loadQueue(); }
  function options(id, kind) {
    var sel = document.getElementById(id);
    Object.keys(LABELS[kind] || {}).forEach(function (k) { sel.appendChild(el("option", {value: k, text: L(kind, k)})); });
    sel.addEventListener("change", reload);
  }
  options("f-channel", "contact_channel");
  options("f-priority", "priority");
  document.getElementById("f-breached").addEventListener("change", reload);
  document.getElementById("qsearch").addEventListener("submit", function (ev) { ev.preventDefault(); reload(); });
  document.getElementById("prev").addEventListener("click", function () { offset = Math.max(0, offset - PAGE); loadQueue(); });
  document.getElementById("next").addEventListener("click", function () { offset += PAGE; loadQueue(); });

  function table(rows, cols) {
    var tb = el("table", {}, [el("tr", {}, cols.map(function (c) { return el("th", {text: c[0]}); }))]);
    rows.forEach(function (r) { tb.appendChild(el("tr", {}, cols.map(function (c) { return el("td", {text: String(c[1](r) == null ? "-" : c[1](r))}); }))); });
    return tb;
  }

  function orderBlock(o) {
    var parcels = (o.parcels || []).map(function (p) {
      var last = (p.tracking || []).slice(-1)[0];
      return el("div", {cls: "muted", text: [L("carrier", p.carrier), p.tracking_no, L("tag", p.status), last ? (last.location || "") + " " + fmt(last.occurred_at) : "",
        p.eta ? T.eta + " " + fmt(p.eta.eta_min) + "~" + fmt(p.eta.eta_max) : ""].join(" · ")});
    });
    var notices = Array.isArray(o.notifications) ? o.notifications : (o.notifications && o.notifications.items) || [];
    return el("div", {cls: "order"}, [
      el("h3", {text: o.order_id + " · " + L("stage", o.stage) + (o.total != null ? " · " + o.total.toLocaleString(lang === "en" ? "en-US" : "ko-KR") + (lang === "en" ? " KRW" : "원") : "")}),
      table(o.timeline || [], [[T.timeline, function (s) { return L("stage", s.stage); }], [T.at, function (s) { return fmt(s.occurred_at); }], [T.source, function (s) { return L("source", s.source) + (s.manual ? " (" + T.manual + ")" : ""); }]]),
      el("div", {}, parcels),
      notices.length ? el("div", {}, [el("strong", {text: T.notifications}),
        table(notices, [[T.notice, function (n) { return n.template ? L("template", n.template) : L("event_type", n.kind || n.type || ""); }], [T.channel, function (n) { return L("notice_channel", n.channel); }], [T.status, function (n) { return L("notice_status", n.status); }], [T.at, function (n) { return fmt(n.sent_at || n.created_at || n.at); }]])]) : null
    ]);
  }

  // A CS lead's VOC relabel: the category names come from the label table; the newest relabel is shown.
  function relabelBox(t) {
    var W = lang === "en" ? {title: "VOC category", save: "Relabel", saved: "Relabelled", last: "Last relabel"}
      : {title: "VOC 분류", save: "분류 변경", saved: "변경했어요", last: "최근 변경"};
    var sel = el("select", {id: "voc-category", "aria-label": T.voc_relabel_title || W.title});
    Object.keys(LABELS.voc || {}).forEach(function (k) {
      var o = el("option", {value: k, text: L("voc", k)});
      if (k === t.voc_category) { o.selected = true; }
      sel.appendChild(o);
    });
    var msg = el("span", {cls: "muted", id: "voc-status"});
    var btn = el("button", {type: "button", id: "voc-save", text: T.voc_relabel_save || W.save});
    btn.addEventListener("click", function () {
      api("PATCH", "/v1/tickets/" + t.id + "/voc", {category: sel.value})
        .then(function () { return open(t.id); })
        .then(function () { var s = document.getElementById("voc-status"); if (s) { s.textContent = T.voc_relabel_saved || W.saved; } })
        .catch(function (e) { msg.textContent = T.error + ": " + e.message; });
    });
    var last = (t.voc_relabels || [])[0];
    return el("section", {cls: "voc-relabel"}, [
      el("label", {}, [(T.voc_relabel_title || W.title) + " ", sel]), " ", btn, " ", msg,
      last ? el("div", {cls: "muted", id: "voc-last", text: (T.voc_relabel_last || W.last) + ": " + L("voc", last.from) + " → " + L("voc", last.to) + " · " + last.by + " · " + fmt(last.at)}) : null
    ]);
  }

  function render(t) {
    view.textContent = "";
    var head = el("section", {}, [
      el("h2", {text: "#" + t.id + " " + t.subject}),
      el("div", {}, [el("span", {cls: "badge " + t.priority, text: L("priority", t.priority)}), el("span", {cls: "badge", text: L("ticket_status", t.status)}),
        el("span", {cls: "badge", text: L("contact_channel", t.channel)}), t.voc_category ? el("span", {cls: "badge", text: T.voc + " " + L("voc", t.voc_category) + " · " + L("sentiment", t.voc_sentiment)}) : null,
        el("span", {cls: "muted", text: " " + T.due + " " + fmt(due(t)) + (t.assignee ? " · " + t.assignee : "")})]),
      t.summary ? el("p", {}, [el("strong", {text: T.summary + ": "}), t.summary]) : null
    ]);
    view.appendChild(head);
    if (t.can_relabel) { view.appendChild(relabelBox(t)); }
    var conv = el("ol", {cls: "conv", id: "conv"});
    (t.messages || []).forEach(function (m) {
      conv.appendChild(el("li", {cls: "m-" + m.author_kind}, [el("span", {cls: "k", text: L("author", m.author_kind) + (m.author ? " " + m.author : "") + " " + fmt(m.at)}), m.text]));
    });
    view.appendChild(el("section", {}, [el("h3", {text: T.conversation}), conv]));
    if (canAct) {
      var box = el("textarea", {id: "reply", placeholder: T.reply_placeholder});
      var wait = el("input", {type: "checkbox", id: "wait"});
      var note = el("input", {type: "checkbox", id: "note"});
      var status = el("span", {cls: "muted", id: "status"});
      var send = el("button", {cls: "primary", type: "button", id: "send", text: T.reply});
      var sug = el("button", {type: "button", id: "suggest", text: T.suggest});
      var res = el("button", {type: "button", id: "resolve", text: T.resolve});
      var mine = el("button", {type: "button", id: "assign", text: T.assign_me});
      var back = t.session_id ? el("button", {type: "button", id: "handback", text: T.handback}) : null;
      send.addEventListener("click", function () {
        if (!box.value.trim()) { return; }
        api("POST", "/v1/tickets/" + t.id + "/replies", {text: box.value, wait_for_customer: wait.checked, note: note.checked})
          .then(function () { box.value = ""; status.textContent = T.sent; open(t.id); loadQueue(); })
          .catch(function (e) { status.textContent = T.error + ": " + e.message; });
      });
      sug.addEventListener("click", function () { api("GET", "/v1/tickets/" + t.id + "/suggested-reply").then(function (j) { box.value = j.text; }); });
      res.addEventListener("click", function () { api("POST", "/v1/tickets/" + t.id + "/resolve").then(function () { open(t.id); loadQueue(); }); });
      mine.addEventListener("click", function () { api("POST", "/v1/tickets/" + t.id + "/assign", {assignee: me}).then(function () { open(t.id); loadQueue(); }); });
      if (back) { back.addEventListener("click", function () { api("POST", "/v1/tickets/" + t.id + "/handback").then(function () { open(t.id); }); }); }
      view.appendChild(el("section", {}, [box, el("div", {}, [el("label", {}, [wait, " " + T.wait]), " ", el("label", {}, [note, " " + T.note])]),
        el("div", {}, [send, " ", sug, " ", mine, " ", res, " ", back, " ", status])]));
    }
    var c = t.customer;
    var cust = el("section", {}, [el("h3", {text: T.customer + " · " + (t.customer_verified ? T.verified : T.unverified)})]);
    if (c) {
      var addr = c.address ? [c.address.zip, c.address.line1, c.address.line2].filter(Boolean).join(" ") : "-";
      cust.appendChild(table([c], [[T.name, function (x) { return x.name; }], [T.phone, function (x) { return x.phone; }], [T.email, function (x) { return x.email; }], [T.address, function () { return addr; }]]));
    } else if (t.requester) { cust.appendChild(el("p", {text: t.requester})); }
    else { cust.appendChild(el("p", {cls: "muted", text: "-"})); }
    view.appendChild(cust);
    var orders = el("section", {}, [el("h3", {text: T.orders})]);
    (t.orders || []).forEach(function (o) { orders.appendChild(orderBlock(o)); });
    view.appendChild(orders);
    var side = el("div", {cls: "grid2"}, [
      el("section", {}, [el("h3", {text: T.claims}), table(t.claims || [], [[T.order, function (x) { return x.order_id; }], [T.kind, function (x) { return L("claim", x.kind); }], [T.at, function (x) { return fmt(x.occurred_at); }]])]),
      el("section", {}, [el("h3", {text: T.history}), table(t.past_conversations || [], [["#", function (x) { return x.id; }], [T.subject, function (x) { return x.subject; }], [T.status, function (x) { return L("ticket_status", x.status); }], [T.at, function (x) { return fmt(x.created_at); }]])])
    ]);
    view.appendChild(side);
  }

  function open(id) {
    current = id;
    Array.prototype.forEach.call(queueEl.children, function (li) { li.className = li.getAttribute("data-id") === String(id) ? "sel" : ""; });
    return api("GET", "/v1/tickets/" + id).then(render).catch(function (e) { view.textContent = T.error + ": " + e.message; });
  }

  document.getElementById("filters").addEventListener("click", function (ev) {
    var b = ev.target.closest("button");
    if (!b) { return; }
    filter = b.getAttribute("data-status");
    Array.prototype.forEach.call(this.children, function (x) { x.className = x === b ? "on" : ""; });
    reload();
  });
  api("GET", "/v1/cs/metrics").then(function (m) {
    function pct(v) { return v == null ? "-" : Math.round(v * 100) + "%"; }
    var frt = m.first_response_minutes.mean;
    document.getElementById("metrics").textContent = [T.frt + " " + (frt == null ? "-" : frt.toFixed(1) + T.minutes), T.automation + " " + pct(m.automation_rate),
      T.escalation + " " + pct(m.escalation_rate), T.voc_rate + " " + pct(m.voc_response_rate)].join(" · ");
  }).catch(function () {});
  var m = /[#&]ticket=(\d+)/.exec(location.hash);
  loadQueue().then(function () { if (m) { open(parseInt(m[1], 10)); } });
  setInterval(function () {
    loadQueue();
    if (current && document.activeElement && document.activeElement.id !== "reply") {
      api("GET", "/v1/tickets/" + current).then(function (t) {
        var conv = document.getElementById("conv");
        if (conv && conv.children.length !== (t.messages || []).length) { render(t); }
      }).catch(function () {});
    }
  }, 5000);
})();
