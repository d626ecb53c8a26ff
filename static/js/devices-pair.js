// Pair a device: poll the code's status until the device appears or the code expires
// (the commands' copy buttons are copy.js's).
// Server data comes from the json_script element "pairing-data"; no POST, so no CSRF token.
(function () {
  "use strict";
  var source = document.getElementById("pairing-data");
  var statusElement = document.getElementById("pairing-status");
  var countdown = document.getElementById("pairing-countdown");
  if (!source || !statusElement) {
    return;
  }
  var data = JSON.parse(source.textContent);
  var expiresAt = new Date(data.expiresAt).getTime();
  var timer = null;

  function say(text) {
    if (statusElement.textContent !== text) {
      statusElement.textContent = text;
    }
  }

  function showMinutesLeft() {
    if (!countdown) {
      return;
    }
    var minutes = Math.max(0, Math.ceil((expiresAt - Date.now()) / 60000));
    countdown.textContent = data.messages.minutesLeft.replace("%(minutes)s", String(minutes));
  }

  function stop() {
    if (timer !== null) {
      window.clearTimeout(timer);
      timer = null;
    }
  }

  function schedule() {
    stop();
    timer = window.setTimeout(poll, data.pollIntervalMs);
  }

  function handle(body) {
    showMinutesLeft();
    if (body.status === "used" && body.device) {
      say(data.messages.paired.replace("%(name)s", body.device.name));
      window.location.assign(data.devicesUrl + encodeURIComponent(body.device.id) + "/");
      return;
    }
    if (body.status === "expired" || body.status === "used") {
      say(data.messages.expired);
      if (countdown) {
        countdown.textContent = "";
      }
      return;
    }
    say(data.messages.waiting);
    schedule();
  }

  function poll() {
    fetch(data.statusUrl, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
    })
      .then(function (response) {
        if (!response.ok) {
          var error = new Error("HTTP " + response.status);
          error.status = response.status;
          throw error;
        }
        return response.json();
      })
      .then(handle)
      .catch(function (error) {
        // Signed out or the code is gone: asking again will not help.
        if (error.status >= 400 && error.status < 500 && error.status !== 429) {
          say(data.messages.stopped);
          return;
        }
        say(data.messages.error);
        schedule();
      });
  }

  showMinutesLeft();
  schedule();
})();
