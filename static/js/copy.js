// Copy buttons: <button data-copy="ID" data-copied="…" data-copy-failed="…" hidden>
// copies the text of the element ID. Buttons stay hidden without this script. The
// clipboard API needs a secure context (HTTPS or localhost); elsewhere, or when it
// refuses, the text is selected so the user can copy it by hand.
(function () {
  "use strict";

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copy(button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target) {
      return;
    }
    // The label before any "Copied": a second click must not make "Copied" the label.
    var label = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", label);
    function flash(text) {
      button.textContent = text;
      window.setTimeout(function () {
        button.textContent = label;
      }, 2000);
    }
    function byHand() {
      selectText(target);
      flash(button.getAttribute("data-copy-failed"));
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(target.textContent).then(function () {
        flash(button.getAttribute("data-copied"));
      }, byHand);
    } else {
      byHand();
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      copy(button);
    });
  });
})();
