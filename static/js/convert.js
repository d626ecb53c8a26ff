// Convert page: check the files before sending, then stream the form to
// /api/conversion/init with the shared progress box (upload-progress.js).
// Texts and limits come from the json_script element "convert-data".
(function () {
  "use strict";
  var form = document.getElementById("convert-form");
  var source = document.getElementById("convert-data");
  if (!form || !source) {
    return;
  }
  var data = JSON.parse(source.textContent);
  var limits = data.limits;
  var text = data.messages;
  var submit = document.getElementById("convert-submit");
  var formError = document.getElementById("form-error");
  var modelInput = document.getElementById("id_model");
  var imagesInput = document.getElementById("id_ref_images");
  var imagesSummary = document.getElementById("ref_images-summary");
  var xhr = null;

  var format = window.visionaText.format;
  var bytes = window.visionaUpload.bytes;

  function hasExtension(name, extensions) {
    var lower = name.toLowerCase();
    return extensions.some(function (ext) {
      return lower.slice(-ext.length) === ext;
    });
  }

  // --- field errors -------------------------------------------------------

  var FIELDS = { platform: "chip", chip: "chip", model: "model", model_id: "model_id", version: "version", ref_images: "ref_images" };

  function setError(field, message) {
    var element = document.getElementById(field + "-error");
    var input = form.querySelector('[name="' + field + '"]');
    if (element) {
      element.textContent = message || "";
      element.hidden = !message;
    }
    if (input) {
      if (message) {
        input.setAttribute("aria-invalid", "true");
      } else {
        input.removeAttribute("aria-invalid");
      }
    }
  }

  function clearErrors() {
    Object.keys(FIELDS).forEach(function (key) {
      setError(FIELDS[key], "");
    });
    formError.hidden = true;
    formError.textContent = "";
  }

  function showFormError(message, link) {
    formError.textContent = message;
    if (link) {
      formError.appendChild(document.createTextNode(" "));
      var anchor = document.createElement("a");
      anchor.href = link;
      anchor.textContent = text.openActive;
      formError.appendChild(anchor);
    }
    formError.hidden = false;
    formError.focus();
  }

  // --- checks before anything is sent ----------------------------------------

  function readStart(file, length) {
    if (file.slice && file.slice(0, length).text) {
      return file.slice(0, length).text().catch(function () {
        return "";
      });
    }
    return Promise.resolve("");
  }

  function checkModel() {
    var file = modelInput.files[0];
    if (!file) {
      return Promise.resolve(text.chooseModel);
    }
    if (!hasExtension(file.name, limits.modelExtensions)) {
      return Promise.resolve(text.modelExtension);
    }
    if (file.size === 0) {
      return Promise.resolve(text.modelEmpty);
    }
    if (file.size > limits.maxModelBytes) {
      return Promise.resolve(text.modelTooLarge);
    }
    return readStart(file, limits.lfsPrefix.length).then(function (start) {
      return start === limits.lfsPrefix ? text.lfsPointer : "";
    });
  }

  // Every image that would be refused, one line each (the error keeps the line breaks),
  // so all of them can be fixed at once.
  function checkImages() {
    var files = Array.prototype.slice.call(imagesInput.files);
    if (files.length > limits.maxImages) {
      return Promise.resolve(text.tooManyImages);
    }
    return Promise.all(files.map(function (file) {
      if (!hasExtension(file.name, limits.imageExtensions)) {
        return format(text.imageType, { name: file.name });
      }
      if (file.size > limits.maxImageBytes) {
        return format(text.imageTooLarge, { name: file.name });
      }
      // A text file named .png is no image: its first bytes say (file-start.js).
      return window.visionaFileStart.matches(file, limits.imageSignatures).then(function (isImage) {
        return isImage ? "" : format(text.imageType, { name: file.name });
      });
    })).then(function (problems) {
      return problems.filter(Boolean).join("\n");
    });
  }

  // Model id and version are optional, as for the API: empty, they are not sent.
  function checkModelId() {
    var value = form.elements.model_id.value.trim();
    var number = Number(value);
    if (value === "") {
      return "";
    }
    if (!/^\d+$/.test(value) || number < limits.minModelId || number > limits.maxModelId) {
      return text.modelId;
    }
    return "";
  }

  function checkVersion() {
    var value = form.elements.version.value.trim();
    return value === "" || new RegExp(limits.versionPattern).test(value) ? "" : text.version;
  }

  function checkChip() {
    return form.querySelector('input[name="chip"]:checked') ? "" : text.chooseChip;
  }

  function validate() {
    return Promise.all([checkModel(), checkImages()]).then(function (found) {
      var errors = {
        chip: checkChip(),
        model: found[0],
        model_id: checkModelId(),
        version: checkVersion(),
        ref_images: found[1],
      };
      var ok = true;
      Object.keys(errors).forEach(function (field) {
        setError(field, errors[field]);
        if (errors[field]) {
          ok = false;
        }
      });
      return ok;
    });
  }

  function describeImages() {
    var files = Array.prototype.slice.call(imagesInput.files);
    var total = files.reduce(function (sum, f) {
      return sum + f.size;
    }, 0);
    var summary = files.length === 1 ? text.imagesChosenOne : text.imagesChosenMany;
    imagesSummary.textContent = files.length ? format(summary, { count: files.length, size: bytes(total) }) : "";
    checkImages().then(function (message) {
      setError("ref_images", message);
    });
  }

  imagesInput.addEventListener("change", describeImages);
  modelInput.addEventListener("change", function () {
    checkModel().then(function (message) {
      setError("model", modelInput.files.length ? message : "");
    });
  });

  // --- the sample model (sandbox) -----------------------------------------------

  // Puts the sample's model and images in the form's file inputs, as if chosen by
  // hand: the user sees them, and one press of the submit button starts the upload.
  function offerSample() {
    var offer = document.getElementById("sample-offer");
    var button = document.getElementById("sample-button");
    var status = document.getElementById("sample-status");
    if (!data.sample || !offer || !button || typeof DataTransfer !== "function") {
      return;
    }
    offer.hidden = false;

    function fetchFile(item, type) {
      return fetch(item.url, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.blob().then(function (blob) {
          return new File([blob], item.name, { type: type });
        });
      });
    }

    function put(input, files) {
      var transfer = new DataTransfer();
      files.forEach(function (file) {
        transfer.items.add(file);
      });
      input.files = transfer.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    button.addEventListener("click", function () {
      button.disabled = true;
      status.textContent = text.sampleLoading;
      var images = data.sample.images.map(function (item) {
        return fetchFile(item, "image/png");
      });
      Promise.all([fetchFile(data.sample.model, "application/octet-stream")].concat(images))
        .then(function (files) {
          put(modelInput, files.slice(0, 1));
          put(imagesInput, files.slice(1));
          // The chip the sample's NEF deploys to (the demo device's), whatever was
          // picked before: the README's next steps deploy it there.
          var chip = form.querySelector('input[name="chip"][value="' + data.sample.chip + '"]');
          if (chip) {
            chip.checked = true;
            chip.dispatchEvent(new Event("change", { bubbles: true }));
          }
          status.textContent = format(text.sampleReady, { count: files.length - 1 });
          submit.focus();
        })
        .catch(function () {
          status.textContent = text.sampleFailed;
        })
        .then(function () {
          button.disabled = false;
        });
    });
  }

  offerSample();

  // --- upload --------------------------------------------------------------

  function body() {
    // Small fields first, so the server knows them before the big files arrive.
    var chip = form.querySelector('input[name="chip"]:checked').value;
    var payload = new FormData();
    payload.append("platform", data.platforms[chip]);
    ["model_id", "version"].forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value !== "") {
        payload.append(name, value);
      }
    });
    payload.append("model", modelInput.files[0]);
    Array.prototype.forEach.call(imagesInput.files, function (file) {
      payload.append("ref_images", file);
    });
    return payload;
  }

  function setBusy(busy) {
    submit.disabled = busy;
    Array.prototype.forEach.call(form.querySelectorAll("input"), function (input) {
      input.disabled = busy;
    });
  }

  function handleError(status, envelope) {
    var error = envelope && envelope.error;
    if (!error) {
      showFormError(status === 0 ? text.networkError : text.unexpected);
      return;
    }
    if (error.code === "active_job_exists" && error.details && error.details.active_job) {
      var id = error.details.active_job.job_id;
      showFormError(error.message, id ? data.jobUrlTemplate.replace("JOB_ID", encodeURIComponent(id)) : null);
      return;
    }
    var fields = (error.details && error.details.fields) || [];
    var marked = false;
    fields.forEach(function (item) {
      var field = FIELDS[item.field];
      if (field) {
        setError(field, item.message || error.message);
        marked = true;
      }
    });
    showFormError(marked ? error.message + " " + text.fixErrors : error.message);
  }

  function upload() {
    setBusy(true);
    xhr = window.visionaUpload.sendAndFollow({
      url: data.initUrl,
      body: body(),
      csrfToken: form.elements.csrfmiddlewaretoken.value,
      messages: data.upload,
      next: function (status, response) {
        var created = status === 201 && response && response.job_id;
        return created ? data.jobUrlTemplate.replace("JOB_ID", encodeURIComponent(response.job_id)) : null;
      },
      settled: function () {
        xhr = null;
        setBusy(false);
      },
      onError: handleError,
      onFailure: showFormError,
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (xhr) {
      return;
    }
    clearErrors();
    validate().then(function (ok) {
      if (ok) {
        upload();
      } else {
        showFormError(text.fixErrors);
        var first = form.querySelector('[aria-invalid="true"]');
        if (first) {
          first.focus();
        }
      }
    });
  });
})();
