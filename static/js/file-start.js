// How a chosen file begins, read in the browser before anything is sent: the convert
// page's reference images, the run page's inputs. window.visionaFileStart.matches(file,
// starts) -> a Promise of whether the file begins with one of ``starts`` (byte lists);
// a browser that cannot read it answers true and leaves the decision to the server.
window.visionaFileStart = (function () {
  "use strict";

  function matches(file, starts) {
    var length = Math.max.apply(null, starts.map(function (start) {
      return start.length;
    }));
    if (!file.slice || !file.slice(0, length).arrayBuffer) {
      return Promise.resolve(true);
    }
    return file.slice(0, length).arrayBuffer().then(function (buffer) {
      var head = new Uint8Array(buffer);
      return starts.some(function (start) {
        return start.every(function (value, index) {
          return head[index] === value;
        });
      });
    }, function () {
      return true;
    });
  }

  return { matches: matches };
})();
