// The customer chat widget: opens a session, sends messages, polls for agent replies. No dependencies.
// Opened from a notification's tracking page as /chat?t=<token>, it passes the signed token so the
// conversation starts verified for that order; a token the API refuses (422) gives a normal session.
(function () {
  "use strict";
  var root = document.getElementById("chat");
  var lang = root.getAttribute("data-lang") || "ko";
  var base = root.getAttribute("data-base") || "";  // "/s/<shop>" when the page is a shop's
  var T = JSON.parse(document.getElementById("i18n").textContent);
  var log = document.getElementById("log");
  var form = document.getElementById("form");
  var input = document.getElementById("text");
  var photo = document.getElementById("photo");
  var key = "dh_chat_session_" + lang;
  var tokenKey = key + "_token";
  var params = new URLSearchParams(window.location.search);
  var linkToken = params.get("t") || params.get("token") || "";
  var sessionId = sessionStorage.getItem(key);
  // A link for another order (or a first visit by link) opens a new conversation; a reload keeps it.
  if (linkToken && sessionStorage.getItem(tokenKey) !== linkToken) { sessionId = null; }
  var lastId = 0;
  var busy = false;
  var queued = [];

  function add(role, text, csat) {
    var li = document.createElement("li");
    li.className = "msg msg-" + role;
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = role === "customer" ? T.you : (role === "agent" ? T.agent_joined : T.bot);
    var body = document.createElement("p");
    body.textContent = text;
    li.appendChild(who);
    li.appendChild(body);
    if (csat) {
      var row = document.createElement("div");
      row.className = "csat";
      for (var i = 1; i <= 5; i++) {
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = String(i);
        b.setAttribute("data-score", String(i));
        b.addEventListener("click", function (ev) { send(ev.target.getAttribute("data-score")); row.remove(); });
        row.appendChild(b);
      }
      li.appendChild(row);
    }
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
  }

  function api(method, path, body) {
    return fetch(base + path, {
      method: method, credentials: "same-origin",
      headers: body ? {"content-type": "application/json"} : {},
      body: body ? JSON.stringify(body) : undefined
    }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) {
          var err = new Error((j.error && j.error.message) || r.status);
          err.status = r.status;
          err.code = j.error && j.error.code;
          throw err;
        }
        return j;
      });
    });
  }

  function poll() {
    if (!sessionId) { return Promise.resolve(); }
    return api("GET", "/v1/chat/sessions/" + encodeURIComponent(sessionId) + "/messages?after=" + lastId)
      .then(function (j) {
        j.messages.forEach(function (m) {
          // Polls overlap when the server is slower than the poll interval: show each message once.
          if (m.id <= lastId) { return; }
          lastId = m.id;
          add(m.role === "system" ? "bot" : m.role, m.text, m.csat);
        });
      }).catch(function (e) {
        if (String(e.message).indexOf("session") >= 0) { sessionStorage.removeItem(key); sessionId = null; start(); }
      });
  }

  function opened(j, token) {
    sessionId = j.session_id;
    sessionStorage.setItem(key, sessionId);
    if (token) { sessionStorage.setItem(tokenKey, token); } else { sessionStorage.removeItem(tokenKey); }
    return poll();
  }

  function start() {
    var token = linkToken;
    var plain = function () {
      // Remembered with the link it came from, so a reload keeps this conversation.
      return api("POST", "/v1/chat/sessions", {lang: lang}).then(function (j) { return opened(j, token); });
    };
    if (!token) { return plain(); }
    return api("POST", "/v1/chat/sessions", {lang: lang, token: token})
      .then(function (j) { return opened(j, token); }, function (e) {
        if (e.status !== 422) { throw e; }
        linkToken = "";  // a broken or changed link: a normal conversation (order number + phone digits)
        return plain();
      });
  }

  function send(text) {
    if (!text) { return; }
    // Typed while the previous message is still on its way: send it next (never drop it).
    if (busy) { queued.push(text); return; }
    busy = true;
    api("POST", "/v1/chat/sessions/" + encodeURIComponent(sessionId) + "/messages", {text: text})
      .then(function () { return poll(); })
      .catch(function (e) { add("bot", T.error + ": " + e.message); })
      .then(function () { busy = false; if (queued.length) { send(queued.shift()); } });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    input.value = "";
    send(text);
  });

  photo.addEventListener("change", function () {
    if (!photo.files.length || !sessionId) { return; }
    var fd = new FormData();
    fd.append("file", photo.files[0]);
    fetch(base + "/v1/chat/sessions/" + encodeURIComponent(sessionId) + "/attachments", {method: "POST", body: fd})
      .then(function (r) { return r.json(); })
      .then(function (j) {
        poll();
        if (j.reply) { add("bot", j.reply); }
        else if (j.error) { add("bot", j.error.message); }  // not a photo, too large, not verified yet
      })
      .catch(function (e) { add("bot", T.error + ": " + e.message); });
    photo.value = "";
  });

  (sessionId ? poll() : start()).then(function () { setInterval(poll, 2000); });
})();
