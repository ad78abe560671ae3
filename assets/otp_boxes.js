// Six one-digit boxes that behave as one code field: typing moves forward,
// Backspace on an empty box goes back, pasting a code fills every box, and a
// full code submits the form. Listeners sit on the document, so they survive
// client-side page changes.
(function () {
  if (window.otpBoxes) return;
  const SELECTOR = "input[data-otp-index]";
  const boxes = () => Array.from(document.querySelectorAll(SELECTOR));
  const nativeSet = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set;

  function setValue(box, value) {
    nativeSet.call(box, value);
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function submitIfComplete() {
    const all = boxes();
    if (all.length && all.every((b) => /^\d$/.test(b.value))) {
      const form = all[0].form;
      if (form) form.requestSubmit();
    }
  }

  function fill(digits, start) {
    const all = boxes();
    let i = start;
    for (const d of digits) {
      if (i >= all.length) break;
      nativeSet.call(all[i], d);
      i += 1;
    }
    (all[Math.min(i, all.length - 1)] || all[0]).focus();
    submitIfComplete();
  }

  document.addEventListener("input", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.matches(SELECTOR)) return;
    const digits = box.value.replace(/\D/g, "");
    const index = Number(box.dataset.otpIndex);
    if (digits.length > 1) return fill(digits, index);
    if (box.value !== digits) return setValue(box, digits);
    if (digits) {
      const next = boxes()[index + 1];
      if (next) next.focus();
      submitIfComplete();
    }
  });

  document.addEventListener("keydown", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.matches(SELECTOR)) return;
    const all = boxes();
    const index = Number(box.dataset.otpIndex);
    if (event.key === "Backspace" && !box.value && index > 0) {
      event.preventDefault();
      nativeSet.call(all[index - 1], "");
      all[index - 1].focus();
    } else if (event.key === "ArrowLeft" && index > 0) {
      all[index - 1].focus();
    } else if (event.key === "ArrowRight" && index < all.length - 1) {
      all[index + 1].focus();
    } else if (/^\d$/.test(event.key) && box.value) {
      // Typing over a filled box replaces its digit.
      nativeSet.call(box, "");
    }
  });

  document.addEventListener("paste", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.matches(SELECTOR)) return;
    const digits = (event.clipboardData || window.clipboardData).getData("text").replace(/\D/g, "");
    if (!digits) return;
    event.preventDefault();
    fill(digits, Number(box.dataset.otpIndex));
  });

  // The resend countdown: the server says when (data-resend-at, epoch ms); the
  // browser shows the seconds left and keeps the button disabled until then.
  function tickResend() {
    const button = document.getElementById("resend");
    if (!button) return;
    const left = Math.ceil((Number(button.dataset.resendAt || 0) - Date.now()) / 1000);
    const label = button.querySelector(".resend-left");
    if (label) label.textContent = left > 0 ? ` in ${left} s` : "";
    if (left > 0) {
      button.disabled = true;
      button.dataset.cooling = "1";
    } else if (button.dataset.cooling) {
      delete button.dataset.cooling; // only undo what this countdown did
      button.disabled = false;
    }
  }
  window.setInterval(tickResend, 250);

  window.otpBoxes = {
    clear() {
      const all = boxes();
      all.forEach((b) => nativeSet.call(b, ""));
      if (all[0]) all[0].focus();
    },
  };
})();
