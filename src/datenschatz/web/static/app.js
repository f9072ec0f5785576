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

  async function getJson(url) {
    var response = await fetch(url, { headers: { Accept: "application/json" } });
    var body = await response.json().catch(function () { return null; });
    if (!response.ok) {
      var message = body && body.error ? body.error.message : response.statusText;
      throw new Error(message);
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

  window.Datenschatz = { t: t, cell: cell, getJson: getJson, seconds: seconds, lang: lang };
})();
