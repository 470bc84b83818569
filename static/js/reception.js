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
        // what the clerk cannot see is not sent: a box ticked before choosing "None"
        // would otherwise come back as an error inside a hidden panel
        panel.querySelectorAll("input, select, textarea").forEach(function (control) {
          control.disabled = panel.hidden;
        });
      });
    }
    form.querySelectorAll("input[name='use']").forEach(function (radio) {
      radio.addEventListener("change", update);
    });
    update();
    // a form that came back with errors starts at the first one to put right, not at the
    // top of the page (its message is read out with it: aria-describedby)
    var invalid = Array.prototype.find.call(
      form.querySelectorAll(".is-invalid"),
      function (control) {
        return !control.disabled && !control.closest("[hidden]");
      }
    );
    if (invalid) {
      invalid.focus();
    }
  });
})();
