// Messages on a touch screen (the "⋯" buttons are hidden there, assets/chat.css):
//   a long press (500 ms, the finger still) on a stored message opens its menu (not on a
//   link or a picture, which keep the browser's);
//   a swipe right on a message starts a reply to it: the bubble follows the finger a
//   little, springs back, and past SWIPE_REPLY px #reply-swiped asks the server for it.
// Every listener is passive: the rows allow only vertical panning (touch-action in
// assets/chat.css), so a horizontal move never scrolls and needs no preventDefault, and
// the list's vertical scrolling never waits for this script.
(function () {
  if (window.chatTouch) return;
  const LONG_PRESS_MS = 500;
  const SLOP = 10; // px a finger may wander and still be "still"
  const SWIPE_REPLY = 60; // px to the right that start a reply
  const FOLLOW = 0.6; // how much of the finger's way the bubble goes, at most MAX_SHIFT
  const MAX_SHIFT = 72;

  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  let touch = null; // {row, bubble, x, y, dx, mode: "undecided" | "swipe" | "scroll", timer}
  let menuOpenedAt = 0; // a long press that opened a menu: its contextmenu and click are dropped

  const stored = (row) => row.querySelector(".msg-actions") !== null;

  function start(event) {
    cancel();
    if (event.touches.length !== 1) return;
    const target = event.target instanceof Element ? event.target : null;
    const bubble = target && target.closest("#messages .msg");
    if (!bubble || target.closest("button")) return; // a reaction chip keeps its own tap
    const row = bubble.closest(".msg-line");
    if (!row || !stored(row)) return; // a message still being sent has no menu, no reply
    const point = event.touches[0];
    touch = { row, bubble, x: point.clientX, y: point.clientY, dx: 0, mode: "undecided", timer: 0 };
    // A link or a picture keeps the browser's own long-press menu (open, copy, save).
    if (!target.closest("a")) touch.timer = setTimeout(longPress, LONG_PRESS_MS);
  }

  function longPress() {
    if (!touch || touch.mode !== "undecided") return;
    const { row } = touch;
    touch = null;
    if (window.chatMessageMenu && window.chatMessageMenu(row, "touch")) {
      menuOpenedAt = Date.now();
      // The press may have begun selecting a word: the menu is what was asked for.
      setTimeout(() => window.getSelection()?.removeAllRanges(), 0);
    }
  }

  function move(event) {
    if (!touch) return;
    const point = event.touches[0];
    const dx = point.clientX - touch.x;
    const dy = point.clientY - touch.y;
    if (touch.mode === "undecided") {
      if (Math.abs(dx) < SLOP && Math.abs(dy) < SLOP) return;
      clearTimeout(touch.timer);
      // Mostly to the right: a swipe; anything else is the list's (scrolling, or nothing).
      touch.mode = dx > 0 && Math.abs(dx) > 1.5 * Math.abs(dy) ? "swipe" : "scroll";
      if (touch.mode === "swipe") touch.bubble.style.transition = "none";
    }
    if (touch.mode !== "swipe") return;
    touch.dx = dx;
    touch.bubble.style.transform = `translateX(${Math.min(Math.max(dx, 0) * FOLLOW, MAX_SHIFT)}px)`;
  }

  function end() {
    if (!touch) return;
    const { row, dx, mode } = touch;
    cancel();
    if (mode === "swipe" && dx >= SWIPE_REPLY) reply(row);
  }

  function cancel() {
    if (!touch) return;
    clearTimeout(touch.timer);
    if (touch.mode === "swipe") springBack(touch.bubble);
    touch = null;
  }

  function springBack(bubble) {
    if (reducedMotion.matches) {
      bubble.style.transition = bubble.style.transform = "";
      return;
    }
    bubble.style.transition = "transform 0.2s ease-out";
    bubble.style.transform = "";
    bubble.addEventListener("transitionend", () => (bubble.style.transition = ""), { once: true });
  }

  function reply(row) {
    const trigger = document.getElementById("reply-swiped");
    if (!trigger) return;
    window.chatReplySeq = Number(row.dataset.seq) || 0;
    trigger.click();
    // What the reader wants next is to write the reply (keys.js would focus it too, once
    // the banner shows; doing it within the touch lets a phone raise its keyboard).
    document.getElementById("composer")?.focus();
  }

  document.addEventListener("touchstart", start, { passive: true });
  document.addEventListener("touchmove", move, { passive: true });
  document.addEventListener("touchend", end, { passive: true });
  document.addEventListener("touchcancel", cancel, { passive: true });
  // The list scrolled under a still finger (momentum, new messages): no long press.
  document.addEventListener("scroll", () => touch && touch.mode === "undecided" && cancel(), {
    capture: true,
    passive: true,
  });

  // Only the long press that opened a menu loses the browser's own menu (and its click).
  const dropAfterLongPress = (event) => {
    if (Date.now() - menuOpenedAt < 1500) {
      event.preventDefault();
      event.stopPropagation();
    }
  };
  document.addEventListener("contextmenu", dropAfterLongPress, true);
  document.addEventListener(
    "click",
    (event) => {
      if (event.target instanceof Element && event.target.closest("#messages .msg")) dropAfterLongPress(event);
    },
    true,
  );

  window.chatTouch = true;
})();
