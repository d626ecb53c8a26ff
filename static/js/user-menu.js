// The user menu (a <details>): Escape closes it and puts the focus back on its button,
// as a menu does; a click elsewhere on the page closes it too.
(function () {
  "use strict";
  var menu = document.getElementById("user-menu");
  if (!menu) {
    return;
  }
  var summary = menu.querySelector("summary");
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && menu.open) {
      menu.open = false;
      summary.focus();
    }
  });
  document.addEventListener("click", function (event) {
    if (menu.open && !menu.contains(event.target)) {
      menu.open = false;
    }
  });
})();
