/* Datenschatz web UI: shared helpers (texts, number formats, copy buttons). No framework. */
"use strict";
(function () {
  var node = document.getElementById("i18n");
  var texts = node ? JSON.parse(node.textContent) : {};
  var lang = document.documentElement.lang || "de";

  function t(key, values) {
    var text = texts[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(values[name]));
    });
    return text;
  }

  function cell(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "number") return value.toLocaleString(lang === "de" ? "de-DE" : "en-GB");
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  /* An API error (the one JSON error shape, or none) as a sentence in the page's language:
     English pages show the API's own message, others the text of its code and the parameter
     it names (texts "errors.code.*" and "errors.label.*" from the page's catalog). */
  var STATUS_CODES = { 401: "unauthorized", 403: "forbidden", 404: "not_found", 410: "gone",
    413: "too_large", 429: "rate_limited" };
  function errorText(body, status) {
    var error = body && body.error ? body.error : null;
    if (lang === "en" && error && error.message) return error.message;
    var code = error && error.code ? error.code : STATUS_CODES[status] || "internal_error";
    var text = texts["errors.code." + code] || t("errors.code.internal_error");
    var details = (error && error.details) || {};
    var names = ["parameter", "column", "field"].filter(function (n) { return details[n]; });
    if (!names.length) return text;
    return text + " (" + t("errors.label." + names[0]) + ": " + details[names[0]] + ")";
  }

  async function getJson(url) {
    var response;
    try {
      response = await fetch(url, { headers: { Accept: "application/json" } });
    } catch (failed) {
      throw new Error(t("js.network_error"));
    }
    var body = await response.json().catch(function () { return null; });
    if (!response.ok) {
      var error = new Error(errorText(body, response.status));
      error.code = body && body.error ? body.error.code : null;
      error.status = response.status;
      throw error;
    }
    return body;
  }

  /* An ISO time without offset is UTC in the data APIs. */
  function seconds(text) {
    var iso = String(text);
    if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) iso += "T00:00:00Z";
    else if (!/(Z|[+-]\d{2}:?\d{2})$/.test(iso)) iso += "Z";
    return Date.parse(iso) / 1000;
  }

  document.querySelectorAll("button.copy").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.dataset.copy);
      source.select();
      var done = function () { button.textContent = t("js.copied"); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.value).then(done, function () {
          document.execCommand("copy"); done();
        });
      } else {
        document.execCommand("copy"); done();
      }
    });
  });

  window.Datenschatz = {
    t: t, cell: cell, getJson: getJson, errorText: errorText, seconds: seconds, lang: lang
  };
})();
