// The chat page's notifications, decided in the browser:
// - the page title carries my unread count ("(3) Chat"), muted chats left out;
// - while the tab is hidden, someone else's message in a chat I did not mute shows a
//   browser notification (the server offers it in #notify-feed; it never offers my own
//   messages or muted chats); clicking it brings the tab back on that chat;
// - permission is asked only when the reader clicks #notify-enable, never on load.
(function () {
  if (window.chatNotify) return;
  const BASE_TITLE = "Chat";
  const byId = (id) => document.getElementById(id);
  const supported = () => "Notification" in window;
  let lastKey; // undefined until the feed is first seen: what it holds then is old news

  function showTitle(feed) {
    const unread = Number(feed.dataset.unread || 0);
    const title = unread > 0 ? `(${unread > 99 ? "99+" : unread}) ${BASE_TITLE}` : BASE_TITLE;
    if (document.title !== title) document.title = title;
  }

  function showEnableButton() {
    const button = byId("notify-enable");
    if (button) button.hidden = !(supported() && Notification.permission === "default");
  }

  function maybeNotify(feed) {
    const key = feed.dataset.key || "";
    if (key === lastKey) return;
    const first = lastKey === undefined;
    lastKey = key;
    if (first || !key || document.visibilityState !== "hidden") return;
    if (!supported() || Notification.permission !== "granted") return;
    const chat = feed.dataset.chat;
    // One notification per chat at a time (a tag replaces the previous one), so several
    // tabs of the same reader do not stack copies of one message.
    const shown = new Notification(feed.dataset.title || BASE_TITLE, { body: feed.dataset.body || "", tag: `chat-${chat}` });
    shown.onclick = () => {
      window.focus();
      const row = document.querySelector(`[data-chat-row="${CSS.escape(chat)}"]`);
      if (row) row.click();
      shown.close();
    };
  }

  function onFeed() {
    const feed = byId("notify-feed");
    if (!feed) {
      lastKey = undefined;
      if (document.title !== BASE_TITLE && /^\(\d+\+?\) /.test(document.title)) document.title = BASE_TITLE;
      return;
    }
    showTitle(feed);
    showEnableButton();
    maybeNotify(feed);
  }

  new MutationObserver(onFeed).observe(document.documentElement, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ["data-unread", "data-key"],
  });

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target || !target.closest("#notify-enable") || !supported()) return;
    Notification.requestPermission().then(showEnableButton);
  });

  window.chatNotify = { lastKey: () => lastKey };
  onFeed();
})();
