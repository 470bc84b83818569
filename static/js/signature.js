/* The signature pad on an agreement's page.
 *
 * A <canvas> the person signs on with a finger, a stylus or the mouse (pointer events); on
 * submit the drawing goes into the hidden "drawn_png" input as a PNG data URL. "Clear"
 * starts again. Choosing "signed on paper" shows the upload instead, which is also the way
 * for someone who cannot draw with a pointer. The name of the person signing is prefilled
 * for the capacity chosen (learner, parent or carer, staff, visitor, headteacher) unless it
 * has been typed over. Loaded as a file: the content security policy forbids inline script.
 */
(function () {
  "use strict";

  var form = document.querySelector("[data-signature-form]");
  if (!form) {
    return;
  }
  var canvas = form.querySelector("canvas.signature-pad");
  var hidden = form.querySelector('input[name="drawn_png"]');
  var clearButton = form.querySelector("[data-signature-clear]");
  var errorBox = form.querySelector("[data-signature-error]");
  var nameInput = form.querySelector('input[name="signer_name"]');
  var context = canvas.getContext("2d");
  var drawn = false;
  var drawing = false;
  var last = null;
  var ratio = 1;

  function readJson(id) {
    var element = document.getElementById(id);
    if (!element) {
      return {};
    }
    try {
      return JSON.parse(element.textContent);
    } catch (error) {
      return {};
    }
  }
  var signerNames = readJson("signer-names");
  var parentNames = readJson("parent-names");

  // The pad -------------------------------------------------------------------------

  function pen() {
    context.lineWidth = 2.5;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.strokeStyle = "#0b1f4b";
    context.fillStyle = "#0b1f4b";
  }

  function restore(dataUrl) {
    var image = new Image();
    image.onload = function () {
      context.drawImage(image, 0, 0, canvas.width / ratio, canvas.height / ratio);
      drawn = true;
    };
    image.src = dataUrl;
  }

  function resize() {
    var box = canvas.getBoundingClientRect();
    if (!box.width || !box.height) {
      return;
    }
    var kept = drawn ? canvas.toDataURL("image/png") : null;
    ratio = Math.max(window.devicePixelRatio || 1, 1);
    canvas.width = Math.round(box.width * ratio);
    canvas.height = Math.round(box.height * ratio);
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    pen();
    if (kept) {
      restore(kept);
    }
  }

  function point(event) {
    var box = canvas.getBoundingClientRect();
    return { x: event.clientX - box.left, y: event.clientY - box.top };
  }

  canvas.addEventListener("pointerdown", function (event) {
    event.preventDefault();
    if (canvas.setPointerCapture) {
      canvas.setPointerCapture(event.pointerId);
    }
    drawing = true;
    last = point(event);
    context.beginPath();
    context.arc(last.x, last.y, context.lineWidth / 2, 0, Math.PI * 2);
    context.fill();
    drawn = true;
    errorBox.textContent = "";
  });

  canvas.addEventListener("pointermove", function (event) {
    if (!drawing) {
      return;
    }
    event.preventDefault();
    var next = point(event);
    context.beginPath();
    context.moveTo(last.x, last.y);
    context.lineTo(next.x, next.y);
    context.stroke();
    last = next;
    drawn = true;
  });

  function stop() {
    drawing = false;
    last = null;
  }
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  canvas.addEventListener("lostpointercapture", stop);

  clearButton.addEventListener("click", function () {
    context.clearRect(0, 0, canvas.width, canvas.height);
    drawn = false;
    hidden.value = "";
    errorBox.textContent = "";
  });

  window.addEventListener("resize", resize);

  // Drawn on screen, or signed on paper ----------------------------------------------

  function chosen(name) {
    var input = form.querySelector('input[name="' + name + '"]:checked');
    return input ? input.value : "";
  }

  function showMethod() {
    var method = chosen("method");
    form.querySelectorAll("[data-method-panel]").forEach(function (panel) {
      panel.hidden = method !== "" && panel.getAttribute("data-method-panel") !== method;
    });
    if (method === "drawn") {
      resize();
    }
  }

  // Who is signing ------------------------------------------------------------------

  var prefilled = nameInput ? nameInput.value : "";

  function prefill(name) {
    if (!nameInput || typeof name !== "string") {
      return;
    }
    if (nameInput.value.trim() === "" || nameInput.value === prefilled) {
      nameInput.value = name;
    }
    prefilled = name;
  }

  function showCapacity(fillName) {
    var capacity = chosen("capacity");
    form.querySelectorAll("[data-show-for-capacity]").forEach(function (block) {
      block.hidden = block.getAttribute("data-show-for-capacity") !== capacity;
    });
    if (!fillName) {
      return;
    }
    if (capacity === "parent_carer") {
      prefill(parentNames[chosen("parent")] || "");
    } else {
      prefill(signerNames[capacity] || "");
    }
  }

  form.addEventListener("change", function (event) {
    var name = event.target.name;
    if (name === "method") {
      showMethod();
    } else if (name === "capacity") {
      showCapacity(true);
    } else if (name === "parent") {
      prefill(parentNames[event.target.value] || "");
    }
  });

  form.addEventListener("submit", function (event) {
    if (chosen("method") !== "drawn") {
      hidden.value = "";
      return;
    }
    if (!drawn) {
      event.preventDefault();
      errorBox.textContent =
        "The signature box is empty: sign in the box, or choose \u201cSigned on paper\u201d.";
      return;
    }
    hidden.value = canvas.toDataURL("image/png");
  });

  showCapacity(false);
  showMethod();
  resize();
  // a signature sent with a form that came back with an error is drawn again
  if (hidden.value.indexOf("data:image/png;base64,") === 0) {
    restore(hidden.value);
  }
})();
