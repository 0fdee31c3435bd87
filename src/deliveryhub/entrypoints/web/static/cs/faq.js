// FAQ editor: list, edit and save entries; show this week's unanswered questions.
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("i18n").textContent);
  var form = document.getElementById("form");
  var entries = document.querySelector("#entries tbody");
  var topics = (T.labels && T.labels.faq_topic) || {};
  function api(method, path, body) {
    return fetch(path, {method: method, credentials: "same-origin", headers: body ? {"content-type": "application/json"} : {},
      body: body ? JSON.stringify(body) : undefined}).then(function (r) {
      return r.json().then(function (j) { if (!r.ok) { throw new Error((j.error && j.error.message) || r.status); } return j; });
    });
  }
  function cell(tr, text) { var td = document.createElement("td"); td.textContent = text; tr.appendChild(td); return td; }
  function load() {
    api("GET", "/v1/faq").then(function (j) {
      entries.textContent = "";
      j.entries.forEach(function (e) {
        var tr = document.createElement("tr");
        cell(tr, topics[e.topic] || topics.other || e.topic); cell(tr, e.question_ko);
        tr.title = T.key + ": " + e.key;
        tr.style.cursor = "pointer";
        tr.addEventListener("click", function () {
          ["key", "topic", "question_ko", "answer_ko", "question_en", "answer_en"].forEach(function (k) { form.elements[k].value = e[k]; });
          form.elements.keywords.value = e.keywords.join(", ");
        });
        entries.appendChild(tr);
      });
    });
    api("GET", "/v1/faq/candidates").then(function (j) {
      var tb = document.querySelector("#candidates tbody");
      tb.textContent = "";
      j.candidates.forEach(function (c) { var tr = document.createElement("tr"); cell(tr, String(c.count)); cell(tr, c.question); tb.appendChild(tr); });
    });
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var f = form.elements;
    var body = {topic: f.topic.value, question_ko: f.question_ko.value, answer_ko: f.answer_ko.value,
      question_en: f.question_en.value, answer_en: f.answer_en.value,
      keywords: f.keywords.value.split(",").map(function (s) { return s.trim(); }).filter(Boolean)};
    api("PUT", "/v1/faq/" + encodeURIComponent(f.key.value), body)
      .then(function () { document.getElementById("status").textContent = T.saved; load(); })
      .catch(function (e) { document.getElementById("status").textContent = T.error + ": " + e.message; });
  });
  load();
})();
