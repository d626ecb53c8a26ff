// Text helpers shared by the conversion pages' scripts. The translated
// templates come from each page's json_script data, in Django's %(name)s style.
window.visionaText = (function () {
  "use strict";

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) {
      return values[key] !== undefined ? String(values[key]) : "";
    });
  }

  // formats: {hours, minutes, seconds}, as the page's "duration" messages.
  function duration(seconds, formats) {
    seconds = Math.max(0, Math.round(seconds));
    var values = {
      hours: Math.floor(seconds / 3600),
      minutes: Math.floor((seconds % 3600) / 60),
      seconds: seconds % 60,
    };
    var key = values.hours ? "hours" : values.minutes ? "minutes" : "seconds";
    return format(formats[key], values);
  }

  return { format: format, duration: duration };
})();
