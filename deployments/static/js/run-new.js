// Run on a device: check the chosen inputs before the form is sent, as the server
// will (count, size, and each file's first bytes), so a text file named .png or a
// 300 MB folder of images is named at once instead of after the upload.
// Limits and texts come from the json_script element "run-new-data".
(function () {
  "use strict";
  var form = document.getElementById("run-form");
  var source = document.getElementById("run-new-data");
  var input = document.getElementById("run-inputs");
  var error = document.getElementById("run-inputs-error");
  if (!form || !source || !input || !error) {
    return;
  }
  var data = JSON.parse(source.textContent);
  var limits = data.limits;
  var text = data.messages;
  var format = window.visionaText.format;

  function extension(name) {
    var dot = name.lastIndexOf(".");
    return dot < 0 ? "" : name.slice(dot + 1).toLowerCase();
  }

  function problemOf(file) {
    var starts = limits.starts[extension(file.name)];
    if (!starts) {
      return Promise.resolve(format(text.notAnInput, { name: file.name }));
    }
    if (file.size === 0) {
      return Promise.resolve(format(text.empty, { name: file.name }));
    }
    if (file.size > limits.maxInputBytes) {
      return Promise.resolve(format(text.tooLarge, { name: file.name }));
    }
    return window.visionaFileStart.matches(file, starts).then(function (right) {
      return right ? "" : format(text.notAnInput, { name: file.name });
    });
  }

  // Every problem, one line each, so all of them can be fixed at once.
  function problems() {
    var files = Array.prototype.slice.call(input.files);
    if (!files.length) {
      return Promise.resolve(text.chooseInput);
    }
    if (files.length > limits.maxInputs) {
      return Promise.resolve(text.tooMany);
    }
    var total = files.reduce(function (sum, file) {
      return sum + file.size;
    }, 0);
    return Promise.all(files.map(problemOf)).then(function (found) {
      var lines = found.filter(Boolean);
      if (!lines.length && total > limits.maxTotalBytes) {
        lines.push(text.totalTooLarge);
      }
      return lines.join("\n");
    });
  }

  function show(message) {
    error.textContent = message;
    error.hidden = !message;
    if (message) {
      input.setAttribute("aria-invalid", "true");
    } else {
      input.removeAttribute("aria-invalid");
    }
  }

  var checked = false;
  input.addEventListener("change", function () {
    checked = false;
    problems().then(show);
  });

  form.addEventListener("submit", function (event) {
    if (checked) {
      return; // the files passed; this is the form going on its way
    }
    event.preventDefault();
    problems().then(function (message) {
      show(message);
      if (message) {
        input.focus();
        return;
      }
      checked = true;
      form.requestSubmit ? form.requestSubmit() : form.submit();
    });
  });
})();
