/* Steward uploads (a new version, or a new dataset): send the form with XMLHttpRequest to show
   the upload's progress. On the "new dataset" form, also suggest the slug from the title (the
   same folding as services/datasets_create.suggest_slug), mark the field the server names in an
   error, and open the new dataset's management page when it is created. */
"use strict";
(function () {
  var D = window.Datenschatz;
  var form = document.getElementById("upload-form");
  if (!form) return;
  var bar = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  var fileInput = form.querySelector("input[type=file]");
  var title = document.getElementById("create-title");
  var slug = document.getElementById("create-slug");
  var errors = document.getElementById("create-errors");

  var FOLD = { "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ẞ": "ss" };

  function suggestSlug(text) {
    var folded = text.toLowerCase().replace(/[äöüßẞ]/g, function (c) { return FOLD[c]; });
    folded = folded.normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
    return folded.replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 100).replace(/-+$/, "");
  }

  if (title && slug) {
    // The suggestion follows the title until the steward edits the slug (emptying it resumes).
    var suggested = !slug.value || slug.value === suggestSlug(title.value);
    title.addEventListener("input", function () {
      if (suggested) slug.value = suggestSlug(title.value);
    });
    slug.addEventListener("input", function () {
      suggested = slug.value === "";
    });
  }

  function clearErrors() {
    form.querySelectorAll("[aria-invalid]").forEach(function (input) {
      input.removeAttribute("aria-invalid");
    });
    form.querySelectorAll("p.warn[data-field]").forEach(function (p) {
      p.textContent = "";
      p.hidden = true;
    });
    if (errors) {
      errors.textContent = "";
      errors.hidden = true;
    }
  }

  function fill(text, values) {
    Object.keys(values).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(values[name]));
    });
    return text;
  }

  /* The server's message at its field, and focus on that field (or on the message above). */
  function showError(error) {
    var input = error.input ? document.getElementById(error.input) : null;
    var text = error.text + (error.detail ? " " + error.detail : "");
    status.textContent = D.t("js.error", { message: text });
    if (errors && (error.link || !input)) {
      var lead = document.createElement("p");
      lead.textContent = text;
      errors.appendChild(lead);
      if (error.link) {
        var link = document.createElement("a");
        link.href = error.link;
        link.id = "create-upload-instead";
        link.textContent = form.dataset.uploadInstead || error.link;
        var line = document.createElement("p");
        line.appendChild(link);
        errors.appendChild(line);
      }
      errors.hidden = false;
    }
    if (input) {
      input.setAttribute("aria-invalid", "true");
      var at = document.getElementById(error.input + "-error");
      if (at) {
        at.textContent = text;
        at.hidden = false;
      }
      input.focus();
    } else if (errors) {
      errors.focus();
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors();
    var file = fileInput ? fileInput.files[0] : null;
    if (file && file.size > Number(form.dataset.maxBytes)) {
      status.textContent = D.t("js.upload_too_large");
      return;
    }
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    bar.value = 0;
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
      button.disabled = false;
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      if (xhr.status === 201 && body) {
        form.dataset.version = String(body.version);
        if (body.location) {
          status.textContent = fill(form.dataset.done || "", {
            version: body.version, rows: body.rows
          });
          window.location.assign(body.location);
        } else {
          status.textContent = D.t("js.upload_done", { version: body.version, rows: body.rows });
        }
      } else if (body && body.form) {
        showError(body.form);
      } else {
        // The web UI answers in the page's language; anything else by its status.
        var message = body && body.error ? body.error.message : D.errorText(null, xhr.status);
        status.textContent = D.t("js.error", { message: message });
      }
    });
    xhr.addEventListener("error", function () {
      button.disabled = false;
      status.textContent = D.t("js.error", { message: D.t("js.network_error") });
    });
    xhr.send(new FormData(form));
  });
})();
