// Editing a message in the composer, and showing a quoted message.
// Editing: when #edit-banner appears (or its data-nonce changes)
// the box takes the message's text, and the draft that was there is kept aside; when the
// banner goes (saved or cancelled), the draft comes back. Escape in the box cancels.
(function () {
  if (window.chatEdits) return;
  const byId = (id) => document.getElementById(id);
  let nonce = null;
  let draft = null;

  function fill(text) {
    const box = byId("composer");
    if (!box) return;
    box.value = text;
    box.dispatchEvent(new Event("input", { bubbles: true })); // the counter follows
    box.focus();
    box.setSelectionRange(text.length, text.length);
  }

  function onChange() {
    const banner = byId("edit-banner");
    if (banner) {
      if (banner.dataset.nonce !== nonce) {
        if (nonce === null) draft = (byId("composer") || {}).value || "";
        nonce = banner.dataset.nonce;
        fill(banner.dataset.text || "");
      }
    } else if (nonce !== null) {
      nonce = null;
      const saved = draft || "";
      draft = null;
      fill(saved);
    }
  }

  // A clicked quote: the server pages back to the quoted message, then sets data-flash-*
  // on #messages; bring that message into view and flash it.
  let flashed = null;
  function onFlash() {
    const list = byId("messages");
    if (!list || !list.dataset.flashNonce || list.dataset.flashNonce === flashed) return;
    flashed = list.dataset.flashNonce;
    const line = list.querySelector(`.msg-line[data-seq="${CSS.escape(list.dataset.flashSeq || "")}"]`);
    if (!line) return;
    line.scrollIntoView({ block: "center" });
    line.classList.remove("flash");
    void line.offsetWidth; // restart the animation
    line.classList.add("flash");
  }

  new MutationObserver(() => {
    onChange();
    onFlash();
  }).observe(document.documentElement, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ["data-nonce", "data-flash-nonce"],
  });

  window.addEventListener(
    "keydown",
    (event) => {
      const box = event.target;
      if (!(box instanceof HTMLTextAreaElement) || box.id !== "composer" || event.key !== "Escape") return;
      const cancel = byId("cancel-edit");
      if (cancel) {
        event.preventDefault();
        cancel.click();
      }
    },
    true,
  );

  window.chatEdits = { editing: () => nonce !== null };
})();
