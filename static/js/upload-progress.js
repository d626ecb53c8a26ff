// Sends a form's data with a progress box (templates/partials/upload_progress.html):
// percent, bytes sent of the total, speed, time left, and a Cancel button. Shared by
// the convert page and My models' upload; each page checks its own fields first and
// reads the answer itself. Needs text.js.
window.visionaUpload = (function () {
  "use strict";
  var format = window.visionaText.format;

  function bytes(n) {
    var units = ["B", "KB", "MB", "GB"];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i += 1;
    }
    return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
  }

  function timeLeft(seconds, text) {
    return isFinite(seconds) ? window.visionaText.duration(seconds, text.duration) : "–";
  }

  // The user must see the progress the moment the upload starts: on a laptop or a
  // phone the box is often below the fold, under the button just pressed.
  function reveal(box) {
    var rect = box.getBoundingClientRect();
    if (rect.top < 0 || rect.bottom > window.innerHeight) {
      box.scrollIntoView({ block: "center", behavior: "auto" });
    }
  }

  // options: url, body (FormData), csrfToken, messages (visiona/upload_progress.py),
  // onLoad(status, response): return true to keep the box (the page moves on),
  // onFailure(message): the upload was cancelled or the connection lost.
  // Returns the request (abort() cancels it, as the Cancel button does).
  function send(options) {
    var box = document.getElementById("upload-progress");
    var bar = document.getElementById("upload-bar");
    var statusLine = document.getElementById("upload-status");
    var cancel = document.getElementById("upload-cancel");
    var text = options.messages;
    var started = Date.now();
    var xhr = new XMLHttpRequest();

    function onCancel() {
      xhr.abort();
    }

    function end(keep) {
      cancel.removeEventListener("click", onCancel);
      if (!keep) {
        box.hidden = true;
      }
    }

    xhr.open("POST", options.url);
    xhr.setRequestHeader("X-CSRFToken", options.csrfToken);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", function (event) {
      if (!event.lengthComputable) {
        return;
      }
      var seconds = (Date.now() - started) / 1000;
      var speed = seconds > 0 ? event.loaded / seconds : 0;
      var percent = Math.floor((event.loaded / event.total) * 100);
      bar.value = percent;
      if (event.loaded >= event.total) {
        statusLine.textContent = text.processing;
        return;
      }
      statusLine.textContent = format(text.progress, {
        percent: percent + "%",
        sent: bytes(event.loaded),
        total: bytes(event.total),
        speed: bytes(speed),
        left: timeLeft(speed > 0 ? (event.total - event.loaded) / speed : Infinity, text),
      });
    });
    xhr.addEventListener("load", function () {
      end(options.onLoad(xhr.status, xhr.response));
    });
    xhr.addEventListener("error", function () {
      end(false);
      options.onFailure(text.networkError);
    });
    xhr.addEventListener("abort", function () {
      end(false);
      options.onFailure(text.cancelled);
    });
    cancel.addEventListener("click", onCancel);
    statusLine.textContent = text.uploading;
    bar.value = 0;
    box.hidden = false;
    reveal(box);
    xhr.send(options.body);
    return xhr;
  }

  // send(), and what a page does with the answer: go where it leads, or give the
  // page its form back with the error. options: url, body, csrfToken, messages (as
  // send's); next(status, response): the URL of the page to go to, or null;
  // settled(): the upload is over and the page stays (the form usable again);
  // onError(status, response) and onFailure(message): what to show then.
  function sendAndFollow(options) {
    return send({
      url: options.url,
      body: options.body,
      csrfToken: options.csrfToken,
      messages: options.messages,
      onLoad: function (status, response) {
        var next = options.next(status, response);
        if (next) {
          window.location.assign(next);
          return true;
        }
        options.settled();
        options.onError(status, response);
        return false;
      },
      onFailure: function (message) {
        options.settled();
        options.onFailure(message);
      },
    });
  }

  return { send: send, sendAndFollow: sendAndFollow, bytes: bytes };
})();
