// My models' upload: check the file and chips, then send the form to the API with the
// shared progress box (upload-progress.js) and open the new model. Without this
// script the form posts to the page as before.
// Texts, limits and addresses come from the json_script element "model-upload-data".
(function () {
  "use strict";
  var form = document.getElementById("model-upload-form");
  var source = document.getElementById("model-upload-data");
  if (!form || !source || !window.FormData || !window.XMLHttpRequest) {
    return;
  }
  var data = JSON.parse(source.textContent);
  var text = data.messages;
  var submit = document.getElementById("upload-submit");
  var leave = document.getElementById("upload-leave");
  var formError = document.getElementById("form-error");
  var fileInput = form.elements.file;
  var xhr = null;

  // A field's error goes right after the field (the chips: after their fieldset).
  function anchorOf(name) {
    if (name === "chips") {
      return form.querySelector("fieldset.chip-choices");
    }
    var input = form.elements[name];
    if (!input || !input.parentNode) {
      return null;
    }
    var help = document.getElementById(input.id + "_helptext");
    return help || input;
  }

  // link: {url, text} after the message (the model that already has this file).
  function setError(name, message, link) {
    var anchor = anchorOf(name);
    if (!anchor) {
      return false;
    }
    var id = "js-error-" + name;
    var element = document.getElementById(id);
    if (!element && message) {
      element = document.createElement("div");
      element.id = id;
      element.className = "field-error";
      anchor.parentNode.insertBefore(element, anchor.nextSibling);
    }
    if (element) {
      element.textContent = message || "";
      element.hidden = !message;
      if (message && link) {
        var anchorLink = document.createElement("a");
        anchorLink.href = link.url;
        anchorLink.textContent = link.text;
        element.appendChild(document.createTextNode(" "));
        element.appendChild(anchorLink);
      }
    }
    var inputs = name === "chips" ? form.querySelectorAll('input[name="chips"]') : [form.elements[name]];
    Array.prototype.forEach.call(inputs, function (input) {
      if (message) {
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", id);
      } else {
        input.removeAttribute("aria-invalid");
      }
    });
    return true;
  }

  function clearErrors() {
    ["file", "chips", "name", "description"].forEach(function (name) {
      setError(name, "");
    });
    // The page's own errors from a previous post (no JavaScript involved) go too.
    Array.prototype.forEach.call(form.querySelectorAll(".field-error:not([id^='js-error-'])"), function (element) {
      element.hidden = true;
    });
    formError.hidden = true;
    formError.textContent = "";
  }

  function showFormError(message) {
    formError.textContent = message;
    formError.hidden = false;
    formError.focus();
  }

  function checkFile() {
    var file = fileInput.files[0];
    if (!file) {
      return text.chooseFile;
    }
    var name = file.name.toLowerCase();
    if (name.length <= data.extension.length || name.slice(-data.extension.length) !== data.extension) {
      return text.notNef;
    }
    if (file.size === 0) {
      return text.empty;
    }
    return file.size > data.maxBytes ? text.tooLarge : "";
  }

  function validate() {
    var errors = {
      file: checkFile(),
      chips: form.querySelector('input[name="chips"]:checked') ? "" : text.chooseChip,
    };
    var ok = true;
    Object.keys(errors).forEach(function (name) {
      setError(name, errors[name]);
      ok = ok && !errors[name];
    });
    return ok;
  }

  function setBusy(busy) {
    submit.disabled = busy;
    leave.hidden = busy; // during the upload, its own Cancel is the one to press
    Array.prototype.forEach.call(form.querySelectorAll("input, textarea"), function (input) {
      input.disabled = busy;
    });
  }

  function handleError(status, envelope) {
    var error = envelope && envelope.error;
    if (!error) {
      showFormError(status === 0 ? data.upload.networkError : data.upload.unexpected);
      return;
    }
    var marked = false;
    var duplicate = error.code === "model_already_stored" && error.details.model_url;
    ((error.details && error.details.fields) || []).forEach(function (item) {
      var link = duplicate && item.field === "file" ? { url: error.details.model_url, text: text.openIt } : null;
      marked = setError(item.field, item.message || error.message, link) || marked;
    });
    showFormError(marked ? text.fixErrors : error.message);
  }

  function upload() {
    var body = new FormData(form); // read before the fields are disabled
    body.delete("csrfmiddlewaretoken");
    setBusy(true);
    xhr = window.visionaUpload.sendAndFollow({
      url: data.apiUrl,
      body: body,
      csrfToken: form.elements.csrfmiddlewaretoken.value,
      messages: data.upload,
      next: function (status, response) {
        var created = status === 201 && response && response.id;
        return created ? data.detailUrlTemplate.replace(/0\/$/, response.id + "/") : null;
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
    if (validate()) {
      upload();
      return;
    }
    showFormError(text.fixErrors);
    var first = form.querySelector('[aria-invalid="true"]');
    if (first) {
      first.focus();
    }
  });
})();
