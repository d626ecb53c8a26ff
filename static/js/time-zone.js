// Tell the server the browser's time zone: the session remembers it and every page then
// shows times in it. A page that showed times in another zone reloads, once, to show
// them in the right one.
(function () {
  "use strict";
  var root = document.documentElement;
  var url = root.getAttribute("data-time-zone-url");
  var known = root.getAttribute("data-time-zone") || "";
  var marker = "visiona-time-zone-reloaded";
  var zone = "";
  try {
    zone = window.Intl ? Intl.DateTimeFormat().resolvedOptions().timeZone || "" : "";
  } catch (error) {
    zone = "";
  }

  function storage() {
    try {
      return window.sessionStorage;
    } catch (error) {
      return null; // storage refused: post the zone, never reload
    }
  }

  if (!url || !zone) {
    return;
  }
  var store = storage();
  if (zone === known) {
    if (store) {
      store.removeItem(marker); // it stuck: a later session may reload once again
    }
    return;
  }
  var token = document.querySelector('input[name="csrfmiddlewaretoken"]');
  if (!token) {
    return;
  }
  fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRFToken": token.value, "Content-Type": "application/x-www-form-urlencoded" },
    body: "time_zone=" + encodeURIComponent(zone),
  }).then(
    function (response) {
      // At most one reload per tab until the zone sticks: a session that cannot keep
      // it must not reload pages forever.
      if (!response.ok || !store || !document.querySelector("time[data-local]")) {
        return;
      }
      if (store.getItem(marker) !== zone) {
        store.setItem(marker, zone);
        window.location.reload();
      }
    },
    function () {}
  );
})();
