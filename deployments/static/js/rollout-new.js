// The new-rollout form: when another group is chosen and the chosen model is built for
// no chip among that group's devices, the choice moves to the first model that is (the
// server picks it the same way for the group the page opens with). A model that fits
// stays chosen; when none fits, the choice is left for the server to explain.
(function () {
  "use strict";
  var data = document.getElementById("rollout-new-data");
  var group = document.getElementById("id_group");
  var model = document.getElementById("id_model");
  if (!data || !group || !model) {
    return;
  }
  var chips = JSON.parse(data.textContent);

  function fits(modelId, groupChips) {
    return (chips.modelChips[modelId] || []).some(function (chip) {
      return groupChips.indexOf(chip) !== -1;
    });
  }

  group.addEventListener("change", function () {
    var groupChips = chips.groupChips[group.value] || [];
    if (fits(model.value, groupChips)) {
      return;
    }
    var first = Array.prototype.find.call(model.options, function (option) {
      return option.value && fits(option.value, groupChips);
    });
    if (first) {
      model.value = first.value;
    }
  });
})();
