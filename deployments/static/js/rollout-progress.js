// A rollout's page, followed live: poll GET /api/rollouts/<id> while the rollout is under
// way and keep its state, the pause's reason, the actions that apply, each phase and each
// device current; announce changes in the live region. GET only: the actions stay forms.
// Each running phase's wait for offline devices is counted down every second, from the
// server's clock; a deadline that changes (a phase begins, a retry) is rewritten in place.
// Server data (URL, translated labels and sentences) comes from "rollout-progress-data".
(function () {
  "use strict";
  var source = document.getElementById("rollout-progress-data");
  if (!source) {
    return;
  }
  var data = JSON.parse(source.textContent);
  var format = window.visionaText.format;
  var announcer = document.getElementById("rollout-announcer");
  var pollStatus = document.getElementById("rollout-poll-status");
  var ACTIVE = ["running", "paused", "rolling_back"];
  var failures = 0;
  // The server's clock minus this one's, so a browser whose clock is off counts right.
  var skewMs = Date.parse(data.serverNow) - Date.now();
  var dateTime = new Intl.DateTimeFormat(
    data.dateTime.locale,
    Object.assign({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" }, data.dateTime.options)
  );
  var ticking = null;

  function role(parent, name) {
    return parent ? parent.querySelector('[data-role="' + name + '"]') : null;
  }

  function pill(element, state, labels) {
    if (!element) {
      return;
    }
    element.textContent = labels[state] || state;
    element.className = "status status-" + state;
  }

  function counted(counts) {
    return format(data.messages.counts, {
      passed: counts.passed,
      failed: counts.failed,
      under_way: counts.deploying + counts.checking,
      planned: counts.planned,
      offline: counts.offline,
      skipped: counts.skipped,
      total: counts.total,
    });
  }

  function countdown(row) {
    var element = role(row, "countdown");
    var deadline = row.getAttribute("data-deadline");
    if (!element || !deadline || row.getAttribute("data-phase-state") !== "running") {
      if (element) {
        element.textContent = "";
        element.hidden = true;
      }
      return false;
    }
    var seconds = (Date.parse(deadline) - (Date.now() + skewMs)) / 1000;
    element.hidden = false;
    if (seconds <= 0) {
      element.textContent = data.messages.passed;
      return false;
    }
    element.textContent = format(data.messages.left, {
      duration: window.visionaText.duration(seconds, data.duration),
    });
    return true;
  }

  function tick() {
    var counting = false;
    document.querySelectorAll("[data-phase]").forEach(function (row) {
      counting = countdown(row) || counting;
    });
    if (!counting && ticking !== null) {
      window.clearInterval(ticking);
      ticking = null;
    } else if (counting && ticking === null) {
      ticking = window.setInterval(tick, 1000);
    }
  }

  function updateDeadline(row, phase) {
    row.setAttribute("data-phase-state", phase.state);
    var known = row.getAttribute("data-deadline");
    if (!phase.deadline_at || (known && Date.parse(known) === Date.parse(phase.deadline_at))) {
      return;
    }
    row.setAttribute("data-deadline", phase.deadline_at);
    var time = document.createElement("time");
    time.setAttribute("datetime", phase.deadline_at);
    time.setAttribute("data-local", "");
    time.textContent = dateTime.format(new Date(phase.deadline_at));
    var cell = role(row, "deadline");
    cell.textContent = "";
    cell.appendChild(time);
  }

  function allowed(rollout) {
    var retryable = ["running", "paused", "completed"].indexOf(rollout.state) !== -1;
    return {
      pause: rollout.state === "running",
      resume: rollout.state === "paused",
      retry: retryable && rollout.counts.failed > 0,
      rollback: ["rolling_back", "rolled_back"].indexOf(rollout.state) === -1,
    };
  }

  function updateRollout(rollout) {
    var state = role(document, "rollout-state");
    if (state.className !== "status status-" + rollout.state) {
      announcer.textContent = format(data.messages.rollout, {
        state: data.rolloutStates[rollout.state] || rollout.state,
      });
    }
    pill(state, rollout.state, data.rolloutStates);
    role(document, "summary").textContent = counted(rollout.counts);
    var pause = role(document, "pause");
    pause.textContent = rollout.pause ? rollout.pause.message : "";
    pause.hidden = !rollout.pause;
    var can = allowed(rollout);
    document.querySelectorAll("[data-action]").forEach(function (form) {
      form.hidden = !can[form.getAttribute("data-action")];
    });
    rollout.phases.forEach(function (phase) {
      var row = document.querySelector('[data-phase="' + phase.number + '"]');
      if (row) {
        pill(role(row, "state"), phase.state, data.phaseStates);
        role(row, "counts").textContent = counted(phase.counts);
        updateDeadline(row, phase);
      }
    });
    tick();
  }

  function rollbackText(rollback) {
    if (!rollback) {
      return "\u2014";
    }
    if (rollback.state === "skipped" || !rollback.deployment) {
      return rollback.message;
    }
    var text = data.deploymentStates[rollback.deployment.state] || rollback.deployment.state;
    if (rollback.restored_from) {
      text += " \u00b7 " + (data.restoredFrom[rollback.restored_from] || rollback.restored_from);
    }
    return text;
  }

  function updateDevice(entry) {
    var row = document.querySelector('[data-device-id="' + entry.device.id + '"]');
    if (!row) {
      return;
    }
    if (row.getAttribute("data-state") !== entry.state) {
      row.setAttribute("data-state", entry.state);
      pill(role(row, "state"), entry.state, data.targetStates);
      announcer.textContent = format(data.messages.changed, {
        device: entry.device.name,
        state: data.targetStates[entry.state] || entry.state,
      });
    }
    var reason = role(row, "reason");
    reason.textContent = entry.reason;
    reason.hidden = !entry.reason;
    var deployment = entry.deployment;
    var progress = role(row, "progress");
    if (deployment) {
      progress.max = deployment.bytes_total || 1;
      progress.value = Math.min(deployment.bytes_done, deployment.bytes_total || 0);
      role(row, "deployment-state").textContent =
        data.deploymentStates[deployment.state] || deployment.state;
    }
    role(row, "rollback").textContent = rollbackText(entry.rollback);
  }

  function poll() {
    fetch(data.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (rollout) {
        failures = 0;
        pollStatus.textContent = "";
        updateRollout(rollout);
        rollout.devices.forEach(updateDevice);
        if (ACTIVE.indexOf(rollout.state) !== -1) {
          window.setTimeout(poll, data.pollIntervalMs);
        }
      })
      .catch(function () {
        failures += 1;
        if (failures >= 5) {
          pollStatus.textContent = data.messages.stopped;
          return;
        }
        pollStatus.textContent = data.messages.error;
        window.setTimeout(poll, data.pollIntervalMs * failures);
      });
  }

  tick();
  if (data.active) {
    window.setTimeout(poll, data.pollIntervalMs);
  }
})();
