// Sign-in page: the browser's time zone goes with the password, so the first page after
// sign-in shows times in it (visiona/auth/views.py remembers it on the session).
(function () {
  "use strict";
  var field = document.getElementById("id_time_zone");
  if (!field) {
    return;
  }
  try {
    field.value = window.Intl ? Intl.DateTimeFormat().resolvedOptions().timeZone || "" : "";
  } catch (error) {
    field.value = "";
  }
})();
