/* The order page: copy the customer's tracking link (the hub issues it and audits the look-up). */
(function () {
  "use strict";
  var box = document.getElementById("tracking-link");
  if (!box) { return; }
  var T = JSON.parse(document.getElementById("order-texts").textContent);
  var button = document.getElementById("copy-link");
  var field = document.getElementById("link-url");
  var msg = document.getElementById("link-msg");
  button.addEventListener("click", function () {
    button.disabled = true;
    fetch("/v1/orders/" + encodeURIComponent(box.getAttribute("data-order")) + "/tracking-link/copy",
      { method: "POST", credentials: "same-origin" })
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
