// "Copy link" beside a new share link: shown only when the clipboard API is there (without
// JavaScript the link is in a read-only field to select and copy by hand).
(function () {
  "use strict";
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    if (!navigator.clipboard) {
      return;
    }
    var field = document.getElementById(button.getAttribute("data-copy"));
    var done = button.parentNode.querySelector("[data-copied]");
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        if (done) {
          done.hidden = false;
        }
      });
    });
  });
})();
