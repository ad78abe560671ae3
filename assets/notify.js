// The chat page's notifications, decided in the browser:
// - the page title carries my unread count ("(3) Chat"), muted chats left out;
// - while the tab is hidden, someone else's message in a chat I did not mute shows a
//   browser notification (the server offers it in #notify-feed; it never offers my own
//   messages or muted chats); clicking it brings the tab back on that chat;
// - #notify-enable turns notifications on and off (aria-pressed). Turning them on asks the
//   browser's permission (only from that click, never on load); with it granted, the in-tab
//   notifications above are on, whatever happens to push. Push is the extra on top: this
//   browser is subscribed to Web Push through the service worker (POST
//   /api/v1/push/subscription), so messages reach it with no tab open. Where that fails (a
//   private window, no push service, push off on the server) notifications stay on and
//   #notify-note and the button's title say they come only while a tab is open. Turning
//   them off unsubscribes it (DELETE) and silences the in-tab notifications too. A
//   subscription found on load is sent again (the server may have dropped it, or another
//   account signed in on this browser): that asks nothing.
// - Where the browser has notifications blocked the button stays, marked aria-disabled, and
//   says so (title, and #notify-note when clicked): only the site settings can undo that.
(function () {
  if (window.chatNotify) return;
  const BASE_TITLE = "Chat";
  const byId = (id) => document.getElementById(id);
  const supported = () => "Notification" in window;
  const pushSupported = () => "serviceWorker" in navigator && "PushManager" in window;
  // localStorage: the reader's choice here, "1" in one of them (neither: never chosen).
  const OFF = "chat-notify-off";
  const ON = "chat-notify-on";
  const TAB_ONLY = "Notifications on while this tab is open; this browser can't get them with the tab closed.";
  const BLOCKED = "Notifications are blocked in this browser's site settings.";
  let lastKey; // undefined until the feed is first seen: what it holds then is old news
  let pushOn = false; // this browser holds a push subscription (known after the first check)
  let busy = false;
  let noteTimer = null;

  function stored(key) {
    try {
      return localStorage.getItem(key) === "1";
    } catch (e) {
      return false;
    }
  }

  const turnedOff = () => stored(OFF);

  function remember(off) {
    try {
      localStorage.setItem(off ? OFF : ON, "1");
      localStorage.removeItem(off ? ON : OFF);
    } catch (e) {}
  }

  const blocked = () => supported() && Notification.permission === "denied";

  // On: permission granted and turned on here. Never chosen here, a push subscription from
  // before the choice was kept (or a browser with no push at all) counts as on.
  function isOn() {
    if (!supported() || Notification.permission !== "granted" || turnedOff()) return false;
    return stored(ON) || pushOn || !pushSupported();
  }

  function showNote(text) {
    const note = byId("notify-note");
    if (!note) return;
    clearTimeout(noteTimer);
    note.textContent = text || "";
    if (text) noteTimer = setTimeout(() => showNote(""), 12000);
  }

  function sessionToken() {
    const found = document.cookie.split("; ").find((c) => c.startsWith("chat_session="));
    return found ? decodeURIComponent(found.slice("chat_session=".length)) : "";
  }

  function api(method, path, body) {
    const shell = document.querySelector(".chat-shell");
    const base = (shell && shell.dataset.api) || "";
    return fetch(`${base}/api/v1${path}`, {
      method,
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${sessionToken()}` },
      body: body ? JSON.stringify(body) : undefined,
    });
  }

  function keyBytes(base64url) {
    const raw = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (base64url.length % 4)) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }

  async function registration() {
    // /pwa.js registers the worker after the page loads; a click comes later than that.
    return Promise.race([navigator.serviceWorker.ready, new Promise((done) => setTimeout(() => done(null), 10000))]);
  }

  function sameKey(subscription, key) {
    const held = subscription.options && subscription.options.applicationServerKey;
    if (!held) return false;
    const bytes = new Uint8Array(held);
    return bytes.length === key.length && bytes.every((b, i) => b === key[i]);
  }

  async function subscribePush() {
    const reg = await registration();
    if (!reg) return false;
    const answer = await api("GET", "/push/key");
    if (!answer.ok) return false; // push is off on this server: in-tab notifications still work
    const key = keyBytes((await answer.json()).publicKey);
    let subscription = await reg.pushManager.getSubscription();
    if (subscription && !sameKey(subscription, key)) {
      await subscription.unsubscribe(); // made with the server's old key pair: useless now
      subscription = null;
    }
    subscription =
      subscription || (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }));
    return (await api("POST", "/push/subscription", subscription.toJSON())).ok;
  }

  async function unsubscribePush() {
    const reg = await navigator.serviceWorker.getRegistration("/");
    const subscription = reg && (await reg.pushManager.getSubscription());
    if (!subscription) return;
    await api("DELETE", "/push/subscription", { endpoint: subscription.endpoint }).catch(() => {});
    await subscription.unsubscribe();
  }

  // On load: what this browser holds, sent again so the server knows it is this reader's.
  async function checkPush() {
    if (!pushSupported() || !supported() || Notification.permission !== "granted" || turnedOff()) return;
    const reg = await navigator.serviceWorker.getRegistration("/");
    const subscription = reg && (await reg.pushManager.getSubscription());
    pushOn = Boolean(subscription);
    showEnableButton();
    if (subscription) api("POST", "/push/subscription", subscription.toJSON()).catch(() => {});
  }

  async function toggle() {
    if (busy || !supported()) return;
    if (blocked()) return showNote(BLOCKED);
    busy = true;
    showNote("");
    try {
      if (isOn()) {
        remember(true);
        pushOn = false;
        showEnableButton();
        if (pushSupported()) await unsubscribePush().catch(() => {});
      } else {
        const permission = await Notification.requestPermission();
        if (permission === "denied") showNote(BLOCKED);
        if (permission !== "granted") return;
        remember(false); // in-tab notifications are on from here, push or not
        showEnableButton();
        if (pushSupported()) {
          pushOn = await subscribePush().catch((error) => {
            console.warn("Push notifications are not available here:", error);
            return false;
          });
        }
        if (!pushOn && isOn()) showNote(TAB_ONLY);
      }
    } finally {
      busy = false;
      showEnableButton();
    }
  }

  function showTitle(feed) {
    const unread = Number(feed.dataset.unread || 0);
    const title = unread > 0 ? `(${unread > 99 ? "99+" : unread}) ${BASE_TITLE}` : BASE_TITLE;
    if (document.title !== title) document.title = title;
  }

  function showEnableButton() {
    const button = byId("notify-enable");
    if (!button) return;
    // Hidden only where the browser has no notifications at all; blocked ones are explained.
    button.hidden = !supported();
    const on = isOn();
    const words = blocked()
      ? BLOCKED
      : on
        ? pushOn || !pushSupported()
          ? "Notifications on"
          : TAB_ONLY
        : "Notifications off";
    const attributes = {
      "aria-pressed": String(on),
      "aria-disabled": String(blocked()),
      "aria-label": blocked() ? "Notifications (blocked)" : "Notifications",
      title: words,
    };
    for (const [name, value] of Object.entries(attributes)) {
      if (button.getAttribute(name) !== value) button.setAttribute(name, value);
    }
  }

  function maybeNotify(feed) {
    const key = feed.dataset.key || "";
    if (key === lastKey) return;
    const first = lastKey === undefined;
    lastKey = key;
    if (first || !key || document.visibilityState !== "hidden") return;
    if (!isOn()) return;
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
    toggle();
  });

  // The permission changed in the site settings while the page is open.
  if (navigator.permissions && navigator.permissions.query) {
    navigator.permissions
      .query({ name: "notifications" })
      .then((status) => status.addEventListener("change", showEnableButton))
      .catch(() => {});
  }

  window.chatNotify = { lastKey: () => lastKey, pushOn: () => pushOn };
  onFeed();
  if (document.readyState === "complete") checkPush();
  else window.addEventListener("load", () => checkPush(), { once: true });
})();
