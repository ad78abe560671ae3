// The message list from the keyboard (the README lists the keys):
//   Tab          reaches the list once: one message holds the list's tab stop (a roving
//                tabindex), the one focused last, else the latest; the next Tab goes on;
//   Up/Down      move between messages, Home/End to the first/last one held;
//   Enter/Space  open the focused message's menu (stored messages only: a pending one has
//                none); Escape closes it and the focus comes back to the message.
// Rows are drawn by index (Reflex's foreach has no keys): when older messages load above,
// the same element shows another message. Focus and tab stop follow data-key, not elements.
// window.chatMessageMenu(row, how) opens a row's menu for the other page scripts (touch.js).
(function () {
  if (window.chatMessageKeys) return;
  const ROW = ".msg-line";
  // Controls inside a message (links, reaction chips, an image, a voice message's player):
  // in Tab order only in the message holding the stop, or every message would add its own
  // stops again (a player's controls are about six). tabindex -1 on the <audio> keeps its
  // inner buttons out of the Tab order too.
  const INNER = "a[href], button:not(.msg-actions), audio[controls], video[controls]";

  let stopKey = null; // the message holding the list's tab stop
  let focusedKey = null; // the message that has the focus, while a row has it
  let focusedRow = null; // and the element that showed it then
  let chat = null;

  const list = () => document.getElementById("messages");
  const rowOf = (node) => (node instanceof Element ? node.closest(ROW) : null);
  const rowsOf = (el) => [...el.querySelectorAll(ROW)];
  const byKey = (el, key) => (key ? rowsOf(el).find((row) => row.dataset.key === key) : null) || null;

  function setTabIndex(el, value) {
    if (el.getAttribute("tabindex") !== value) el.setAttribute("tabindex", value);
  }

  // Exactly one row is tabbable; a message that went away leaves the stop to the latest.
  function rove(el) {
    const rows = rowsOf(el);
    const stop = byKey(el, stopKey) || rows[rows.length - 1] || null;
    for (const row of rows) {
      const value = row === stop ? "0" : "-1";
      setTabIndex(row, value);
      for (const inner of row.querySelectorAll(INNER)) setTabIndex(inner, value);
    }
  }

  // A redraw moved the focused message to another element (or removed its element):
  // the focus follows the message, without scrolling (chat.js keeps the view still).
  function keepFocus(el) {
    if (!focusedRow) return;
    const active = document.activeElement;
    const moved = !focusedRow.isConnected || focusedRow.dataset.key !== focusedKey;
    const stayed = active === focusedRow || active === document.body || active === null;
    if (!moved || !stayed) {
      if (active !== focusedRow) focusedRow = focusedKey = null; // the reader went elsewhere
      return;
    }
    const target = byKey(el, focusedKey);
    if (target) target.focus({ preventScroll: true });
    else focusedRow = focusedKey = null;
  }

  function onPageChanged() {
    const el = list();
    if (!el) return;
    if (el.dataset.chat !== chat) {
      chat = el.dataset.chat;
      stopKey = focusedKey = focusedRow = null;
    }
    rove(el);
    keepFocus(el);
  }

  function focusRow(row) {
    stopKey = row.dataset.key;
    rove(list());
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  // Opens the row's menu through its "⋯" (the Radix trigger), even when that is hidden:
  // Radix opens on Enter from the keyboard (the first item takes the focus) and on a
  // pointer press (no item focused, as after a touch).
  function openMenu(row, how) {
    const trigger = row.querySelector(".msg-actions");
    if (!trigger) return false;
    const event =
      how === "keyboard"
        ? new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true })
        : new PointerEvent("pointerdown", { bubbles: true, cancelable: true, button: 0, pointerType: "touch" });
    trigger.dispatchEvent(event);
    return true;
  }

  document.addEventListener("keydown", (event) => {
    const row = event.target instanceof Element && event.target.matches(ROW) ? event.target : null;
    if (!row || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const rows = rowsOf(list() || document);
    const at = rows.indexOf(row);
    const goTo = {
      ArrowUp: rows[at - 1],
      ArrowDown: rows[at + 1],
      Home: rows[0],
      End: rows[rows.length - 1],
    };
    if (event.key in goTo) {
      event.preventDefault(); // the list does not scroll by itself: the focus moves
      if (goTo[event.key]) focusRow(goTo[event.key]);
    } else if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      openMenu(row, "keyboard");
    }
  });

  document.addEventListener("focusin", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    // A closing menu gives the focus back to its "⋯", hidden or not: the message takes it
    // (unless another script already moved it on, as keys.js does after Reply).
    const trigger = target && target.closest(".msg-actions");
    if (trigger && document.activeElement === trigger && trigger.dataset.state !== "open") {
      // A message focused while the menu was closing (its "Show the message this answers"
      // moved the focus there) keeps it; the trigger's element may show another by now.
      const row = byKey(list() || document, focusedKey) || rowOf(trigger);
      if (row) {
        focusRow(row);
        return;
      }
    }
    const row = target && target.matches(ROW) ? target : null;
    focusedRow = row;
    focusedKey = row ? row.dataset.key : null;
    if (row && row.dataset.key !== stopKey) {
      stopKey = row.dataset.key; // clicked, or Shift+Tab from below: this one holds the stop now
      rove(list());
    }
  });

  onPageChanged();
  new MutationObserver(onPageChanged).observe(document.documentElement, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ["data-key", "data-chat"],
  });

  // While the page is offline its state takes no events: Reflex keeps them and sends them on
  // reconnect, so a reply, a reaction or an edit chosen now would happen seconds later, over
  // whatever the reader did meanwhile. The menu's server actions wait for the connection (the
  // banner flashes to say why); Copy text works offline.
  const offline = () => document.getElementById("offline-banner") !== null;
  function holdWhileOffline(event) {
    if (!offline()) return;
    const item = event.target instanceof Element ? event.target.closest(".msg-menu [role='menuitem']") : null;
    if (!item || item.classList.contains("msg-copy")) return;
    if (event.type === "keydown" && event.key !== "Enter" && event.key !== " ") return;
    event.preventDefault();
    event.stopPropagation();
    document.getElementById("offline-banner").dataset.flash = String(Date.now());
  }
  for (const type of ["pointerup", "click", "keydown"]) window.addEventListener(type, holdWhileOffline, true);

  window.chatMessageMenu = openMenu;
  window.chatMessageKeys = true;
})();
