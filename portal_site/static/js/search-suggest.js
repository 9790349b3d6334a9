/* Progressive enhancement of the search page: suggestions as you type (the form works without
   it). A static file, not an inline script: portal pages run under a Content-Security-Policy
   with script-src 'self' (docs/decisions.md, "Hardening: inputs and headers"). */
(function () {
  "use strict";
  var input = document.getElementById("search-q");
  var list = document.getElementById("search-suggestions");
  if (!input || !list || !window.fetch) return;
  var timer;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      if (input.value.length < 2) return;
      fetch(input.dataset.suggestUrl + "?q=" + encodeURIComponent(input.value), {credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (data) {
          list.textContent = "";
          data.suggestions.forEach(function (s) {
            var o = document.createElement("option");
            o.value = s.title;
            list.appendChild(o);
          });
        }).catch(function () {});
    }, 150);
  });
})();
