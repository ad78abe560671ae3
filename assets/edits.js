// Editing a message in the composer: when #edit-banner appears (or its data-nonce changes)
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

  new MutationObserver(onChange).observe(document.documentElement, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ["data-nonce"],
  });

  window.addEventListener(
    "keydown",
    (event) => {
      const box = event.target;
      if (!(box instanceof HTMLTextAreaElement) || box.id !== "composer" || event.key !== "Escape") return;
      // An edit first; else a reply being written is dropped.
      const cancel = byId("cancel-edit") || byId("cancel-reply");
      if (cancel) {
        event.preventDefault();
        cancel.click();
      }
    },
    true,
  );

  window.chatEdits = { editing: () => nonce !== null };
})();
