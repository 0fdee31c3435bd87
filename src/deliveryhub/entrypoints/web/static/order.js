/* The order page: copy the customer's tracking link, or send it again (the hub audits both). */
(function () {
  "use strict";
  var box = document.getElementById("tracking-link");
  if (!box) { return; }
  var T = JSON.parse(document.getElementById("order-texts").textContent);
  var button = document.getElementById("copy-link");
  var field = document.getElementById("link-url");
  var msg = document.getElementById("link-msg");
  var resend = document.getElementById("resend-link");
  function post(what) {
    return fetch("/v1/orders/" + encodeURIComponent(box.getAttribute("data-order")) + "/tracking-link/" + what,
      { method: "POST", credentials: "same-origin" });
  }
  resend.addEventListener("click", function () {
    resend.disabled = true;
    post("resend")
      .then(function (r) {
        return r.json().then(function (j) {
          if (r.ok) { msg.textContent = T.resent; box.setAttribute("data-resent", "1"); return; }
          var code = j.error && j.error.code;
          msg.textContent = code === "no_notice" ? T.no_notice : code === "links_closed" ? T.closed : T.failed;
        });
      })
      .catch(function () { msg.textContent = T.failed; })
      .then(function () { resend.disabled = false; });
  });
  button.addEventListener("click", function () {
    button.disabled = true;
    post("copy")
      .then(function (r) {
        if (r.status === 409) { throw new Error(T.closed); }
        if (!r.ok) { throw new Error(T.failed); }
        return r.json();
      })
      .then(function (d) {
        field.value = d.url;
        field.hidden = false;
        field.select();
        var done = function () { msg.textContent = T.copied; box.setAttribute("data-copied", "1"); };
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(d.url).then(done, done);
        } else {
          done();
        }
      })
      .catch(function (e) { msg.textContent = e.message || T.failed; })
      .then(function () { button.disabled = false; });
  });
})();
