// Keyboard shortcuts of the chat page (the README lists them):
//   Ctrl/Cmd+K  focuses the search box of the chat list;
//   Up          in an empty composer, edits my last message;
//   Escape      in the composer cancels an edit or drops a reply (edits.js);
// and a chat opened with a keyboard or a mouse puts the focus in its composer (not on a
// touch screen, where it would pop the keyboard up over the conversation).
(function () {
  if (window.chatKeys) return;
  const byId = (id) => document.getElementById(id);
  const visible = (el) => el && el.offsetParent !== null;
  const finePointer = window.matchMedia && window.matchMedia("(pointer: fine)").matches;

  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "k") {
      const search = [byId("message-search"), byId("people-search")].find(visible);
      if (search) {
        event.preventDefault();
        search.focus();
        search.select();
      }
      return;
    }
    const box = event.target;
    if (!(box instanceof HTMLTextAreaElement) || box.id !== "composer") return;
    if (event.key === "ArrowUp" && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey) {
      // (With the @ list open, mentions.js takes the arrows before this sees them.)
      if (!box.value && byId("edit-last")) {
        event.preventDefault();
        const banner = byId("offline-banner");
        // Offline, the edit would start on reconnect, over what was typed meanwhile: not now.
        if (banner) banner.dataset.flash = String(Date.now());
        else byId("edit-last").click();
      }
    }
  });

  // A newly opened chat (the message list's data-chat changes): focus its composer, unless
  // the reader is typing somewhere else already. A reply just chosen from a message's menu
  // is written at once: the composer takes the focus the closing menu gave back to "⋯".
  let openChat = null;
  let focusOwed = false;
  let replying = false;
  let replyChosenAt = 0;
  function onPageChanged() {
    const banner = byId("reply-banner") !== null;
    if (banner && !replying && byId("composer")) {
      replyChosenAt = Date.now();
      byId("composer").focus();
    }
    replying = banner;
    const list = byId("messages");
    const chat = list ? list.dataset.chat || null : null;
    if (chat !== openChat) {
      openChat = chat;
      focusOwed = !!chat && finePointer;
    }
    // Owed until the composer has it, unless the reader is typing somewhere else (the
    // conversation may still redraw its composer after the list came). The chat row that
    // was clicked or entered keeps no focus: the conversation is what comes next.
    const composer = byId("composer");
    const active = document.activeElement;
    if (!focusOwed || !composer) return;
    const typing = active && active !== composer && (active.tagName === "INPUT" || active.tagName === "TEXTAREA");
    if (!typing && active !== composer) composer.focus();
    if (typing || document.activeElement === composer) focusOwed = false;
  }
  // The closing menu hands the focus back to its "⋯" late (when the message redraws), after
  // the reply banner took it for the composer, or even after Ctrl+K: shortly after a reply
  // was chosen, the focus goes back to where it was (the composer, the search box).
  document.addEventListener("focusin", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const previous = event.relatedTarget instanceof HTMLElement ? event.relatedTarget : null;
    if (!target || !target.closest(".msg-actions") || Date.now() - replyChosenAt > 2000) return;
    if (previous && previous.isConnected && !previous.closest("[role=menu]")) previous.focus();
  });

  // The page may have drawn the chat before this script ran: look once now, then on changes.
  onPageChanged();
  new MutationObserver(onPageChanged).observe(document.documentElement, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ["data-chat"],
  });

  window.chatKeys = true;
})();
