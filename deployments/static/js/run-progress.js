// A run's page while the device runs it (or the worker compares it): poll the run's API
// and reload the page once its state, its inputs done or its comparison changed, so the
// server draws the figures and charts. Data from the json_script "run-page-data".
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("run-page-data").textContent);
  if (!data.pollMs) {
    return;
  }
  function check() {
    fetch(data.apiUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (run) {
        if (!run) {
          window.setTimeout(check, data.pollMs * 2);
          return;
        }
        var now = [run.state, run.inputs_done, run.reference.state];
        if (now.join() !== data.seen.join()) {
          window.location.reload();
          return;
        }
        window.setTimeout(check, data.pollMs);
      })
      .catch(function () {
        window.setTimeout(check, data.pollMs * 2);
      });
  }
  window.setTimeout(check, data.pollMs);
})();
