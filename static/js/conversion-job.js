// Job page: poll the job until it ends (gently, backing off on errors), keep the
// stepper, bars and elapsed time current, and save the NEF to My models.
// The page is complete without this script; it only keeps it live.
(function () {
  "use strict";
  var source = document.getElementById("job-data");
  if (!source) {
    return;
  }
  var data = JSON.parse(source.textContent);
  var text = data.messages;
  var live = document.getElementById("job-live");
  var elapsed = document.getElementById("elapsed");
  var createdAt = new Date(data.createdAt).getTime();
  var interval = data.pollIntervalMs;
  var lastStatus = document.getElementById("job").getAttribute("data-status");
  var announcer = document.getElementById("job-announcer");
  var currentStep = document.querySelector("#job-stepper .step-current");
  var announcedStage = currentStep ? currentStep.getAttribute("data-stage") : null;
  var FINISHED_KEY = "visiona-job-finished";

  var format = window.visionaText.format;

  function showElapsed(endMs) {
    elapsed.textContent = window.visionaText.duration(((endMs || Date.now()) - createdAt) / 1000, text.duration);
  }

  function csrfToken(form) {
    var input = form && form.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  function errorMessage(body) {
    return (body && body.error && body.error.message) || text.unexpected;
  }

  // --- live progress ---------------------------------------------------------

  // The converter ends a cancelled job as failed; the page shows it as cancelled.
  function isCancelled(job) {
    return job.status === "failed" && Boolean(job.error) && job.error.code === data.cancelledCode;
  }

  function render(job) {
    var status = document.getElementById("job-status");
    var shown = isCancelled(job) ? "cancelled" : job.status;
    status.textContent = data.statusLabels[shown] || shown;
    status.className = "status status-" + shown;
    setBar("overall", job.progress);
    setBar("stage", job.stage_progress);
    renderSteps(job);
  }

  // The stepper: class, hidden state text and aria-current stay true together, and a
  // stage change is announced (the announcer is a polite live region).
  // As the server's stepper (conversion/views.py _stages): a queued job has no stage in
  // progress yet, whatever stage it names.
  function renderSteps(job) {
    var order = Object.keys(data.stageLabels);
    var failedAt = job.status === "failed" && job.error && job.error.stage ? job.error.stage : null;
    var endedHere = isCancelled(job) ? "cancelled" : "failed";
    var current;
    if (job.status === "completed") {
      current = order.length;
    } else if (job.status === "failed") {
      current = failedAt ? order.indexOf(failedAt) : -1;
    } else if (job.status === "running") {
      current = job.stage && order.indexOf(job.stage) >= 0 ? order.indexOf(job.stage) : 0;
    } else {
      current = -1;
    }
    Array.prototype.forEach.call(document.querySelectorAll("#job-stepper .step"), function (step, index) {
      var state = index < current ? "done" : index === current ? (job.status === "failed" ? endedHere : "current") : "pending";
      step.className = "step step-" + state;
      step.querySelector(".step-state").textContent = data.stepStates[state];
      if (state === "current") {
        step.setAttribute("aria-current", "step");
      } else {
        step.removeAttribute("aria-current");
      }
    });
    var queue = document.getElementById("queue-position");
    if (queue) {
      queue.hidden = !(job.status === "created" && job.queue_position);
      if (!queue.hidden) {
        queue.textContent = format(text.queuePosition, { position: job.queue_position });
      }
    }
    var running = job.status === "running" && current >= 0 && current < order.length ? order[current] : null;
    if (running && running !== announcedStage) {
      announce(format(text.stageNow, { stage: data.stageLabels[running] }));
    }
    announcedStage = running || announcedStage;
  }

  function announce(message) {
    if (announcer) {
      announcer.textContent = message;
    }
  }

  function setBar(name, value) {
    var bar = document.getElementById(name + "-bar");
    var label = document.getElementById(name + "-text");
    if (bar && typeof value === "number") {
      bar.value = value;
      label.textContent = value + "%";
    }
  }

  function finished(job) {
    // The result (download, save, failure details) is rendered by the server:
    // one reload shows it, and works the same without JavaScript. The reloaded page
    // moves the focus to the result, so a screen reader reads it out.
    announce(job.status === "completed" ? text.completed : isCancelled(job) ? text.cancelled : text.failed);
    live.textContent = text.reloadToSee;
    try {
      window.sessionStorage.setItem(FINISHED_KEY, data.jobUrl);
    } catch (error) {
      // no storage: the result is still there, only not focused
    }
    window.setTimeout(function () {
      window.location.reload();
    }, 600);
  }

  function focusResultAfterReload() {
    var result = document.querySelector("#job-completed h2, #job-failed h2");
    var stored = null;
    try {
      stored = window.sessionStorage.getItem(FINISHED_KEY);
      window.sessionStorage.removeItem(FINISHED_KEY);
    } catch (error) {
      return;
    }
    if (result && stored === data.jobUrl) {
      result.setAttribute("tabindex", "-1");
      result.focus();
    }
  }

  function poll() {
    fetch(data.jobUrl, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        return response.json().then(
          function (body) {
            return { status: response.status, body: body };
          },
          function () {
            return { status: response.status, body: null };
          }
        );
      })
      .then(function (result) {
        if (result.status === 200 && result.body) {
          interval = data.pollIntervalMs;
          live.textContent = "";
          render(result.body);
          if (result.body.status !== "created" && result.body.status !== "running") {
            finished(result.body);
            return;
          }
          window.setTimeout(poll, interval);
          return;
        }
        if (result.status >= 400 && result.status < 500 && result.status !== 429) {
          live.textContent = errorMessage(result.body); // signed out, or gone: asking again won't help
          return;
        }
        retryLater(result.body);
      })
      .catch(function () {
        retryLater(null);
      });
  }

  function retryLater(body) {
    interval = Math.min(interval * 2, data.maxPollIntervalMs);
    var message = format(text.connectionProblem, { seconds: Math.round(interval / 1000) });
    live.textContent = body && body.error ? body.error.message + " " + message : message;
    window.setTimeout(poll, interval);
  }

  focusResultAfterReload();
  if (!data.finished && (lastStatus === "created" || lastStatus === "running")) {
    window.setInterval(showElapsed, 1000);
    window.setTimeout(poll, interval);
  }

  // --- cancel ------------------------------------------------------------------

  var cancelForm = document.getElementById("cancel-form");
  if (cancelForm) {
    cancelForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!window.confirm(text.confirmCancel)) {
        return;
      }
      var cancelButton = document.getElementById("cancel-button");
      var cancelError = document.getElementById("cancel-error");
      cancelButton.disabled = true;
      live.textContent = text.cancelling;
      fetch(data.cancelUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken(cancelForm) },
      })
        .then(function (response) {
          return response.json().then(function (body) {
            return { ok: response.ok, body: body };
          });
        })
        .then(function (result) {
          if (result.ok) {
            finished(result.body);
            return;
          }
          throw result.body;
        })
        .catch(function (body) {
          cancelButton.disabled = false;
          live.textContent = "";
          cancelError.textContent = errorMessage(body);
          cancelError.hidden = false;
        });
    });
  }

  // --- save to My models ---------------------------------------------------------

  var saveForm = document.getElementById("save-form");
  if (saveForm) {
    var button = document.getElementById("save-button");
    var saveError = document.getElementById("save-error");
    var note = document.getElementById("saved-note");
    saveForm.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      saveError.hidden = true;
      note.textContent = text.saving;
      fetch(saveForm.action, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          Accept: "application/json",
          "Content-Type": "application/json",
          "X-CSRFToken": csrfToken(saveForm),
        },
        body: JSON.stringify({
          name: saveForm.elements.name.value.trim(),
          keep_onnx: Boolean(saveForm.elements.keep_onnx && saveForm.elements.keep_onnx.checked),
        }),
      })
        .then(function (response) {
          return response.json().then(function (body) {
            return { ok: response.ok, body: body };
          });
        })
        .then(function (result) {
          if (!result.ok) {
            throw result.body;
          }
          var model = result.body.model;
          note.textContent = format(text.saved, { name: model.name });
          // The way on: the saved model, and deploying it (as the page shows once saved).
          var actions = document.getElementById("saved-actions");
          [
            ["saved-model-link", "button", data.modelUrlTemplate, text.openModel],
            ["saved-model-deploy", "button button-primary", data.deployUrlTemplate, text.deploy],
          ].forEach(function (spec) {
            var link = document.createElement("a");
            link.id = spec[0];
            link.className = spec[1];
            link.href = spec[2].replace(/0\/$/, model.id + "/");
            link.textContent = spec[3];
            actions.appendChild(link);
            actions.appendChild(document.createTextNode(" "));
          });
          actions.hidden = false;
          // Saved: the name field and its button have done their part.
          saveForm.querySelector("label[for=id_name]").hidden = true;
          saveForm.querySelector(".inline-field").hidden = true;
          var keepOnnx = saveForm.querySelector("label.checkbox");
          if (keepOnnx) {
            keepOnnx.hidden = true;
          }
          var expiry = document.getElementById("expiry-note");
          var saved = document.getElementById("expiry-note-saved");
          if (expiry && saved) {
            expiry.textContent = saved.textContent;
          }
          saveForm.elements.name.disabled = true;
        })
        .catch(function (body) {
          button.disabled = false;
          note.textContent = "";
          saveError.textContent = errorMessage(body);
          // The same bytes are already one of the user's models: the way to it.
          var details = body && body.error && body.error.code === "model_already_stored" && body.error.details;
          if (details && details.model_url) {
            var link = document.createElement("a");
            link.id = "existing-model-link";
            link.href = details.model_url;
            link.textContent = text.openModel;
            saveError.appendChild(document.createTextNode(" "));
            saveError.appendChild(link);
          }
          saveError.hidden = false;
        });
    });
  }
})();
