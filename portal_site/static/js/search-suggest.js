/* Suggestions as you type for every search box that asks for them: the header box on every page
   (#header-q) and the search page's own (#search-q). Progressive enhancement: without this
   script the boxes are plain search fields whose forms submit to /search/.

   The ARIA 1.2 combobox pattern (list autocomplete, no automatic selection): the input has
   role="combobox", aria-expanded and aria-controls naming its role="listbox" popup; the options
   (role="option", aria-selected) are "focused" through aria-activedescendant while the caret
   stays in the box. Down/Up open the list and move through it (wrapping), Enter opens the
   chosen suggestion (with none chosen, the form searches as usual), Escape closes the list,
   a click or tap opens an option. A polite status (#<input id>-status) tells screen-reader
   users how many suggestions there are; its words come translated from the page
   (data-suggest-status with "{n}", data-suggest-none).

   Suggestions come only from the suggest endpoint (data-suggest-url), which the permission
   policy filters. A static file, not an inline script: portal pages run under a
   Content-Security-Policy with script-src 'self' (docs/decisions.md, "Hardening: inputs and
   headers"). */
(function () {
  "use strict";
  if (!window.fetch || !document.querySelectorAll) return;
  var DELAY_MS = 150;
  var MIN_LENGTH = 2;

  function setup(input) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    if (!list || input.dataset.suggestReady) return;
    input.dataset.suggestReady = "1";
    var status = document.getElementById(input.id + "-status");
    var url = input.dataset.suggestUrl;
    var options = [];
    var active = -1;
    var timer = null;
    var asked = 0; // the latest request's number: a slower, older answer is dropped
    var shownFor = null; // the text the current options answer

    function announce(text) {
      if (status) status.textContent = text || "";
    }

    function expanded() {
      return !list.hidden;
    }

    function choose(n) {
      active = n;
      options.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === n ? "true" : "false");
      });
      if (n < 0) {
        input.removeAttribute("aria-activedescendant");
        return;
      }
      input.setAttribute("aria-activedescendant", options[n].id);
      if (options[n].scrollIntoView) options[n].scrollIntoView({block: "nearest"});
    }

    function open() {
      if (!options.length) return;
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function close() {
      choose(-1);
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
    }

    function show(suggestions, text) {
      shownFor = text;
      list.textContent = "";
      options = suggestions.map(function (suggestion, n) {
        var option = document.createElement("li");
        option.id = list.id + "-" + n;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.dataset.url = suggestion.url;
        option.textContent = suggestion.title; // text, never markup
        list.appendChild(option);
        return option;
      });
      choose(-1);
      if (options.length) {
        open();
        announce((input.dataset.suggestStatus || "{n}").replace("{n}", String(options.length)));
      } else {
        close();
        announce(text.length >= MIN_LENGTH ? input.dataset.suggestNone : "");
      }
    }

    function ask() {
      var text = input.value.trim();
      if (text === shownFor) {
        open();
        return;
      }
      if (text.length < MIN_LENGTH) {
        show([], text);
        return;
      }
      var mine = ++asked;
      fetch(url + "?q=" + encodeURIComponent(text), {
        credentials: "same-origin",
        headers: {Accept: "application/json"},
      })
        .then(function (response) {
          return response.ok ? response.json() : {suggestions: []};
        })
        .then(function (data) {
          // Only the answer to the latest text, and only while the box still has the focus.
          if (mine !== asked || document.activeElement !== input) return;
          show(data.suggestions || [], text);
        })
        .catch(function () {}); // no suggestions; the form still searches
    }

    function go(option) {
      if (option && option.dataset.url) window.location.assign(option.dataset.url);
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, DELAY_MS);
    });

    input.addEventListener("keydown", function (event) {
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      switch (event.key) {
        case "ArrowDown":
        case "Down":
          if (!options.length) return;
          event.preventDefault();
          if (!expanded()) {
            open();
            choose(0);
          } else {
            choose(active + 1 < options.length ? active + 1 : 0);
          }
          break;
        case "ArrowUp":
        case "Up":
          if (!options.length) return;
          event.preventDefault();
          if (!expanded()) {
            open();
            choose(options.length - 1);
          } else {
            choose(active > 0 ? active - 1 : options.length - 1);
          }
          break;
        case "Enter":
          if (expanded() && active >= 0) {
            event.preventDefault(); // open the suggestion instead of searching
            go(options[active]);
          }
          break;
        case "Escape":
        case "Esc":
          if (expanded()) {
            event.preventDefault(); // close the list; the typed text stays
            close();
          }
          break;
        default:
          break;
      }
    });

    input.addEventListener("blur", close);
    // Pressing an option must not take the focus from the box (the blur would close the list
    // before the click lands).
    list.addEventListener("mousedown", function (event) {
      event.preventDefault();
    });
    list.addEventListener("click", function (event) {
      var option = event.target.closest ? event.target.closest('[role="option"]') : null;
      go(option);
    });
    list.addEventListener("mousemove", function (event) {
      var option = event.target.closest ? event.target.closest('[role="option"]') : null;
      var n = options.indexOf(option);
      if (n >= 0 && n !== active) choose(n);
    });
  }

  function start() {
    var boxes = document.querySelectorAll('input[role="combobox"][data-suggest-url]');
    Array.prototype.forEach.call(boxes, setup);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
