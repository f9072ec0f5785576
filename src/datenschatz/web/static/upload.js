/* Steward upload: send the form with XMLHttpRequest to show the upload's progress. */
"use strict";
(function () {
  var D = window.Datenschatz;
  var form = document.getElementById("upload-form");
  if (!form) return;
  var bar = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var file = document.getElementById("upload-file").files[0];
    if (file && file.size > Number(form.dataset.maxBytes)) {
      status.textContent = D.t("js.upload_too_large");
      return;
    }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        bar.value = Math.round((e.loaded / e.total) * 100);
        bar.textContent = bar.value + " %";
        status.textContent = D.t("js.upload_sending", { percent: bar.value });
      }
    });
    xhr.upload.addEventListener("load", function () {
      bar.value = 100;
      status.textContent = D.t("js.upload_checking");
    });
    xhr.addEventListener("load", function () {
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      if (xhr.status === 201 && body) {
        status.textContent = D.t("js.upload_done", { version: body.version, rows: body.rows });
        form.dataset.version = String(body.version);
      } else {
        var message = body && body.error ? body.error.message : xhr.statusText;
        status.textContent = D.t("js.error", { message: message });
      }
    });
    xhr.addEventListener("error", function () { status.textContent = D.t("js.error", { message: "network" }); });
    xhr.send(new FormData(form));
  });
})();
