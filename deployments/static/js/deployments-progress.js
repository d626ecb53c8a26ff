// Deployment progress: poll the deployments API for this model and keep each device's row
// current (state, bytes, error); announce state changes in the live region.
// Server data comes from the json_script element "deployment-progress-data"; GET only.
(function () {
  "use strict";
  var source = document.getElementById("deployment-progress-data");
  var announcer = document.getElementById("deployment-announcer");
  var pollStatus = document.getElementById("deployment-poll-status");
  if (!source) {
    return;
  }
  var data = JSON.parse(source.textContent);
  var format = window.visionaText.format;
  var failures = 0;
  var units = data.units; // the first ("bytes") in the page's language

  function size(bytes) {
    var value = Number(bytes) || 0;
    var unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return unit === 0 ? value + " " + units[0] : value.toFixed(1) + " " + units[unit];
  }

  function isFinal(state) {
    return data.final.indexOf(state) !== -1;
  }

  function part(row, role) {
    return row.querySelector('[data-role="' + role + '"]');
  }

  function update(row, deployment) {
    var state = deployment.state;
    var total = deployment.bytes_total || deployment.model.size_bytes;
    var progress = part(row, "progress");
    if (progress) {
      progress.max = total || 1;
      // A failed one shows a whole red bar: its colour, not its length, is the news.
      progress.value = state === "failed" ? progress.max : Math.min(deployment.bytes_done, total || 0);
    }
    part(row, "bytes").textContent = format(data.messages.bytes, {
      done: size(deployment.bytes_done),
      total: size(total),
    });
    showFailure(row, deployment);
    // Retry: a failure that deploying again can help, or a cancelled deployment.
    var retry = part(row, "retry");
    if (retry) {
      retry.hidden = !((deployment.failure && deployment.failure.retry) || state === "cancelled");
    }
    var waiting = part(row, "waiting");
    if (waiting && state !== "pending") {
      waiting.hidden = true;
    }
    if (row.getAttribute("data-state") !== state) {
      var label = part(row, "state");
      label.textContent = data.states[state] || state;
      label.className = "status deployment-state status-" + state;
      row.setAttribute("data-state", state);
      announcer.textContent = format(data.messages.changed, {
        device: deployment.device.name,
        state: data.states[state] || state,
      });
    }
    var cancel = part(row, "cancel");
    if (cancel && isFinal(state)) {
      cancel.remove();
    }
  }

  // What happened and what to do (the API's "failure", in the page's language), and
  // the device's own words as a detail.
  function showFailure(row, deployment) {
    var failure = deployment.failure;
    part(row, "failure").hidden = !failure;
    if (!failure) {
      return;
    }
    part(row, "failure-summary").textContent = failure.summary;
    part(row, "failure-next").textContent = failure.next_step;
    var said = deployment.error_message || "";
    if (deployment.error_code) {
      said += (said ? " " : "") + "(" + deployment.error_code + ")";
    }
    part(row, "failure-message").textContent = said;
    part(row, "failure-detail").hidden = !said;
  }

  function handle(body) {
    failures = 0;
    pollStatus.textContent = "";
    var byId = {};
    body.results.forEach(function (deployment) {
      byId[deployment.id] = deployment;
    });
    var unfinished = 0;
    document.querySelectorAll("[data-deployment-id]").forEach(function (row) {
      var deployment = byId[row.getAttribute("data-deployment-id")];
      if (deployment) {
        update(row, deployment);
      }
      if (!isFinal(row.getAttribute("data-state"))) {
        unfinished += 1;
      }
    });
    if (unfinished) {
      window.setTimeout(poll, data.pollIntervalMs);
    }
  }

  function poll() {
    fetch(data.url, {
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
        failures += 1;
        if ((error.status >= 400 && error.status < 500 && error.status !== 429) || failures > 10) {
          pollStatus.textContent = data.messages.stopped;
          return;
        }
        pollStatus.textContent = data.messages.error;
        window.setTimeout(poll, data.pollIntervalMs * Math.min(failures + 1, 5));
      });
  }

  poll();
})();
