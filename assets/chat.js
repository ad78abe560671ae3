// The chat page's browser side: what only the browser knows or should decide.
// - the scroll position: stick to the bottom only when the reader is there, keep the
//   view still when older messages load above, and a "new messages" pill otherwise;
// - whether the reader sees the bottom (visible tab, scrolled down): the server marks
//   the chat read only then;
// - the composer: Enter sends, Shift+Enter is a new line, the 4,000-character limit,
//   and a draft per chat kept in localStorage while switching.
// - a chat opened at one message (a search result): scroll to it and flash it, page in
//   newer messages as the reader scrolls down, until the live end.
// It talks to the server only by clicking the page's hidden buttons (#load-older,
// #load-newer, #attn-on, #attn-off, #jump-latest). Listeners sit on the document, so they survive
// client-side page changes.
(function () {
  if (window.chatPage) return;
  // Times are shown in the reader's own zone; the server reads this cookie.
  try {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone) document.cookie = `chat_tz=${encodeURIComponent(zone)}; path=/; max-age=31536000; samesite=strict`;
  } catch (e) {}

  const BOTTOM_SLACK = 48; // px from the bottom that still counts as "at the bottom"
  const OLDER_AT = 160; // px from the top that asks for the previous page
  const byId = (id) => document.getElementById(id);
  const click = (id) => { const el = byId(id); if (el) el.click(); };

  let atBottom = true;
  let attentive = null;
  let olderAnchor = null; // {fromBottom, at}: restore the view after older messages arrive
  let newerAnchor = null; // {key, top, at}: keep a line still while newer messages arrive
  let focusDone = ""; // the data-focus value already scrolled to
  let listEl = null; // the #messages element seen last (a route change mounts a new one)
  let chatId = null;
  let lastKey = null;

  const list = () => byId("messages");
  const limit = () => Number((byId("composer-count") || {}).dataset?.limit || 4000);

  function measure(el) {
    atBottom = el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK;
  }

  function reportAttention() {
    const now = atBottom && document.visibilityState === "visible";
    if (now !== attentive) {
      attentive = now;
      click(now ? "attn-on" : "attn-off");
    }
  }

  function pill(show) {
    const el = byId("new-pill");
    if (el) el.dataset.show = show ? "1" : "0";
  }

  function toBottom(el) {
    el.scrollTop = el.scrollHeight;
    atBottom = true;
    pill(false);
  }

  function maybeLoadOlder(el) {
    if (el.dataset.hasOlder !== "true" || el.scrollTop > OLDER_AT) return;
    if (olderAnchor && Date.now() - olderAnchor.at < 5000) return;
    olderAnchor = { fromBottom: el.scrollHeight - el.scrollTop, at: Date.now() };
    click("load-older");
  }

  // A window that stops short of the live end: near its bottom, ask for the next page.
  // Lines may be let go at the top meanwhile, so the anchor is a line, not a distance.
  function maybeLoadNewer(el) {
    if (el.dataset.newerWaiting !== "true") return;
    if (el.scrollHeight - el.scrollTop - el.clientHeight > OLDER_AT) return;
    if (newerAnchor && Date.now() - newerAnchor.at < 5000) return;
    const top = el.getBoundingClientRect().top;
    const line = [...el.querySelectorAll(".msg-line")].find((l) => l.getBoundingClientRect().bottom > top);
    if (!line) return;
    newerAnchor = { key: line.dataset.key, top: line.getBoundingClientRect().top - top, at: Date.now() };
    click("load-newer");
  }

  function keepNewerAnchor(el) {
    const line = newerAnchor && el.querySelector(`.msg-line[data-key="${CSS.escape(newerAnchor.key)}"]`);
    if (line) el.scrollTop += line.getBoundingClientRect().top - el.getBoundingClientRect().top - newerAnchor.top;
    newerAnchor = null;
    measure(el);
  }

  // Opened at a message: centre it and flash it, once per request.
  function showFocus(el) {
    const focus = el.dataset.focus || "";
    if (!focus || focus === focusDone) return false;
    const line = el.querySelector(`.msg-line[data-seq="${CSS.escape(focus.split(":")[0])}"]`);
    if (!line) return false;
    focusDone = focus;
    const box = el.getBoundingClientRect();
    const at = line.getBoundingClientRect();
    el.scrollTop += at.top - box.top - (el.clientHeight - at.height) / 2;
    measure(el);
    pill(false);
    line.classList.remove("focused");
    void line.offsetWidth; // restart the animation when the same line is asked for again
    line.classList.add("focused");
    setTimeout(() => line.classList.remove("focused"), 2600);
    return true;
  }

  function lastLine(el) {
    const lines = el.querySelectorAll(".msg-line");
    return lines.length ? lines[lines.length - 1] : null;
  }

  // --- drafts ----------------------------------------------------------------------------
  const draftKey = (id) => `chat-draft:${id}`;

  function restoreDraft() {
    const box = byId("composer");
    if (!box || !chatId) return;
    const saved = localStorage.getItem(draftKey(chatId)) || "";
    if (box.value !== saved) box.value = saved;
    updateCount(box);
  }

  function saveDraft(box) {
    if (!chatId) return;
    if (box.value) localStorage.setItem(draftKey(chatId), box.value);
    else localStorage.removeItem(draftKey(chatId));
  }

  // Characters as the server counts them (code points: an emoji is one, not two).
  const chars = (text) => [...text].length;

  function updateCount(box) {
    const counter = byId("composer-count");
    if (!counter) return;
    const length = chars(box.value.trim());
    const max = limit();
    const over = length > max;
    counter.textContent = over
      ? `Too long: ${length.toLocaleString()} / ${max.toLocaleString()} characters`
      : length >= max * 0.8
        ? `${length.toLocaleString()} / ${max.toLocaleString()}`
        : "";
    counter.dataset.over = over ? "1" : "0";
    const send = byId("send");
    if (send) send.disabled = !sendable(box);
  }

  function sendable(box) {
    const length = chars(box.value.trim());
    return length > 0 && length <= limit();
  }

  // While the connection is down the app shows #offline-banner; a send then waits in
  // the box (and in the saved draft) instead of in a queue that a closed tab would lose.
  const offline = () => byId("offline-banner") !== null;

  // --- the message list changed (a new chat, new messages, an older page) ------------------
  function onListChanged() {
    if (byId("session-ended")) {
      // Signed out in another tab, or everywhere: this page's session is gone too.
      window.location.replace("/login");
      return;
    }
    const el = list();
    if (!el) {
      chatId = null;
      return;
    }
    let focused = false;
    let anchored = false;
    if (el !== listEl) {
      listEl = el; // a new element (say, /chat to /chat/<id>): nothing of the old one holds
      chatId = null;
      focusDone = "";
    }
    if (el.dataset.chat !== chatId) {
      chatId = el.dataset.chat;
      olderAnchor = newerAnchor = null;
      lastKey = null;
      restoreDraft();
      focused = showFocus(el);
      if (!focused) toBottom(el);
    } else if (showFocus(el)) {
      focused = true; // the same chat, opened at another message
      olderAnchor = newerAnchor = null;
    } else if (olderAnchor && el.scrollHeight - olderAnchor.fromBottom > el.scrollTop + 1) {
      // Older messages came in above: keep what the reader was looking at where it was.
      el.scrollTop = el.scrollHeight - olderAnchor.fromBottom;
      olderAnchor = null;
    } else if (newerAnchor) {
      const last = lastLine(el);
      if (last && last.dataset.key !== lastKey) {
        keepNewerAnchor(el); // a newer page came in below (and maybe lines left at the top)
        anchored = true;
      }
    }
    const last = lastLine(el);
    const key = last ? last.dataset.key : null;
    if (focused) {
      lastKey = key;
    } else if (key !== lastKey) {
      const mine = last && last.dataset.mine === "true";
      // Short of the live end, new lines at the bottom are a page the reader asked for.
      const paging = el.dataset.newerWaiting === "true" || anchored;
      if (!paging && (atBottom || mine || lastKey === null)) toBottom(el);
      else if (!paging) pill(true);
      lastKey = key;
    } else if (atBottom) {
      el.scrollTop = el.scrollHeight; // a row grew (a tick, a retry): stay at the bottom
    }
    if (el.dataset.newerWaiting === "true") pill(true);
    reportAttention();
  }

  new MutationObserver(() => onListChanged()).observe(document.documentElement, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ["data-chat", "data-newer-waiting"],
  });

  document.addEventListener(
    "scroll",
    (event) => {
      const el = event.target;
      if (!(el instanceof HTMLElement) || el.id !== "messages") return;
      measure(el);
      if (atBottom) pill(false);
      maybeLoadOlder(el);
      maybeLoadNewer(el);
      reportAttention();
    },
    true,
  );

  document.addEventListener("visibilitychange", reportAttention);

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    if (target.closest("#new-pill")) {
      const el = list();
      if (el && el.dataset.newerWaiting === "true") click("jump-latest");
      else if (el) el.scrollTo({ top: el.scrollHeight, behavior: "smooth" });
      pill(false);
      return;
    }
    const discard = target.closest(".discard-failed");
    const box = byId("composer");
    if (discard && box && !box.value) {
      // A message that could not be sent goes back to the box for editing.
      box.value = discard.dataset.text || "";
      saveDraft(box);
      updateCount(box);
      box.focus();
    }
  });

  // --- the composer --------------------------------------------------------------------------
  document.addEventListener("keydown", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLTextAreaElement) || box.id !== "composer") return;
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      if (box.form && sendable(box)) box.form.requestSubmit();
    }
  });

  document.addEventListener("input", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLTextAreaElement) || box.id !== "composer") return;
    saveDraft(box);
    updateCount(box);
  });

  // Capture phase on window, before the app's handler (React listens on the document):
  // an empty or over-long message, or any message while offline, never reaches it; the
  // text stays where it is.
  window.addEventListener(
    "submit",
    (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement) || form.id !== "composer-form") return;
      const box = byId("composer");
      if (!box || !sendable(box) || offline()) {
        event.preventDefault();
        event.stopPropagation();
        const banner = byId("offline-banner");
        if (banner) banner.dataset.flash = String(Date.now());
      }
    },
    true,
  );

  // Bubble phase on window, after the app's handler has read the form: empty the box at
  // once, so the next keystroke or a second Enter starts a new message.
  window.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.id !== "composer-form") return;
    const box = byId("composer");
    if (!box) return;
    box.value = "";
    saveDraft(box);
    updateCount(box);
    box.focus();
  });

  window.chatPage = { state: () => ({ atBottom, attentive, chatId }) };
  onListChanged();
})();
