// The reception forms: the purpose, place, time and who agreed show only when a specific
// device use is chosen. Without this script every field shows, and the server checks them.
(function () {
  "use strict";
  document.querySelectorAll("[data-device-use-form]").forEach(function (form) {
    var panels = form.querySelectorAll("[data-show-for-use]");
    function update() {
      var chosen = form.querySelector("input[name='use']:checked");
      var value = chosen ? chosen.value : "";
      panels.forEach(function (panel) {
        panel.hidden = panel.getAttribute("data-show-for-use") !== value;
      });
    }
    form.querySelectorAll("input[name='use']").forEach(function (radio) {
      radio.addEventListener("change", update);
    });
    update();
  });
})();
