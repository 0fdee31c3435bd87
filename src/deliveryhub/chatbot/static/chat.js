// The customer chat widget: opens a session, sends messages, polls for agent replies. No dependencies.
(function () {
  "use strict";
  var root = document.getElementById("chat");
  var lang = root.getAttribute("data-lang") || "ko";
  var T = JSON.parse(document.getElementById("i18n").textContent);
  var log = document.getElementById("log");
  var form = document.getElementById("form");
  var input = document.getElementById("text");
  var photo = document.getElementById("photo");
  var key = "dh_chat_session_" + lang;
  var sessionId = sessionStorage.getItem(key);
  var lastId = 0;
  var busy = false;

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
    return fetch(path, {
      method: method, credentials: "same-origin",
      headers: body ? {"content-type": "application/json"} : {},
      body: body ? JSON.stringify(body) : undefined
    }).then(function (r) {
      return r.json().then(function (j) { if (!r.ok) { throw new Error((j.error && j.error.message) || r.status); } return j; });
    });
  }

  function poll() {
    if (!sessionId) { return Promise.resolve(); }
    return api("GET", "/v1/chat/sessions/" + encodeURIComponent(sessionId) + "/messages?after=" + lastId)
      .then(function (j) {
        j.messages.forEach(function (m) {
          lastId = Math.max(lastId, m.id);
          add(m.role === "system" ? "bot" : m.role, m.text, m.csat);
        });
      }).catch(function (e) {
        if (String(e.message).indexOf("session") >= 0) { sessionStorage.removeItem(key); sessionId = null; start(); }
      });
  }

  function start() {
    return api("POST", "/v1/chat/sessions", {lang: lang}).then(function (j) {
      sessionId = j.session_id;
      sessionStorage.setItem(key, sessionId);
      return poll();
    });
  }

  function send(text) {
    if (!text || busy) { return; }
    busy = true;
    api("POST", "/v1/chat/sessions/" + encodeURIComponent(sessionId) + "/messages", {text: text})
      .then(function () { return poll(); })
      .catch(function (e) { add("bot", T.error + ": " + e.message); })
      .then(function () { busy = false; });
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
    fetch("/v1/chat/sessions/" + encodeURIComponent(sessionId) + "/attachments", {method: "POST", body: fd})
      .then(function (r) { return r.json(); })
      .then(function (j) { poll(); if (j.reply) { add("bot", j.reply); } })
      .catch(function (e) { add("bot", T.error + ": " + e.message); });
    photo.value = "";
  });

  (sessionId ? poll() : start()).then(function () { setInterval(poll, 2000); });
})();
