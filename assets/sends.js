// New messages, from Enter to stored, whatever the connection does.
// - The bubble is drawn here at once, with its clock, before any server round trip: the
//   page's own state cannot draw it while its connection is down.
// - Until the server has stored it, the message is kept in localStorage (per account), so a
//   dropped network, a reload or a closed tab loses nothing; it is sent again, by its
//   clientId, when the connection is back or the page opens again. The server stores a
//   clientId once, however often (or late) it arrives.
// - While the page's socket is up, a message goes over it (ComposerState.send_from_page: one
//   event, which also shows the stored row in this tab); without an answer from there within
//   SOCKET_WAIT_MS, or while the page is offline, through the API (POST /api/v1/message),
//   whose stored message comes back through the page's live events. Both answer alike
//   (status, detail, Retry-After), and the row (data-key = the clientId) then takes the
//   place of the bubble drawn here.
// - A refusal of the content (422 and the like) is said, and the text goes back to the box;
//   a busy server (429, 503) is asked again after its Retry-After, a backlog at a pace under
//   the send limit; a network failure waits for the connection.
// Edits are not sends: the composer's form takes them to the server (chat.js, ComposerState).
(function () {
  if (window.chatSends) return;
  const byId = (id) => document.getElementById(id);
  const TIMEOUT_MS = 15000; // a request that hangs (a half-dead network) is given up and retried
  const RETRY_MS = 10000; // a failed send is tried again this often while the page is open
  const PACE_WINDOW_MS = 10000; // the server allows 20 sends per 10 s (LIMIT_MESSAGES_PER_10_SECONDS)
  const PACE_MAX = 15; // ... a backlog flushes under that
  const SHOWN_STORED_MS = 5 * 60 * 1000; // a stored send waits this long for its row, at most
  const SOCKET_WAIT_MS = 10000; // no answer over the socket in this long: the API is asked

  const shell = () => document.querySelector(".chat-shell");
  const me = () => (shell() && shell().dataset.me) || "";
  const list = () => byId("messages");
  const offline = () => byId("offline-banner") !== null || navigator.onLine === false;
  const storeKey = (user) => `chat-unsent:${user}`;

  // What is not stored yet, oldest first: [{id, chat, text, reply: {seq, sender, text}, at}].
  function queued(user = me()) {
    if (!user) return [];
    try {
      const items = JSON.parse(localStorage.getItem(storeKey(user)) || "[]");
      return Array.isArray(items) ? items.filter((i) => i && i.id && i.chat && typeof i.text === "string") : [];
    } catch (e) {
      return [];
    }
  }

  // False if the browser would not keep it (storage full or turned off).
  function keep(items, user = me()) {
    if (!user) return false;
    try {
      if (items.length) localStorage.setItem(storeKey(user), JSON.stringify(items));
      else localStorage.removeItem(storeKey(user));
      return true;
    } catch (e) {
      return false;
    }
  }

  function forget(id, user = me()) {
    const items = queued(user);
    if (items.some((i) => i.id === id)) keep(items.filter((i) => i.id !== id), user);
  }

  const status = new Map(); // id -> {state: "sending" | "waiting" | "failed" | "stored", due}
  const stored = new Map(); // id -> item: stored, shown here until its row comes
  const sentAt = []; // when the last sends went out (the pace)
  let flushing = false;
  let timer = null;

  function sessionToken() {
    const found = document.cookie.split("; ").find((c) => c.startsWith("chat_session="));
    return found ? decodeURIComponent(found.slice("chat_session=".length)) : "";
  }

  const apiBase = () => (shell() && shell().dataset.api) || "";
  const newClientId = () =>
    window.crypto && crypto.randomUUID ? crypto.randomUUID() : `msg-${Date.now()}-${Math.random()}`;

  // --- sending ---------------------------------------------------------------------------------
  async function post(item) {
    if (!offline() && !window.chatSendsApiOnly && byId("send-socket")) {
      const answer = await overSocket(item);
      if (answer) return answer;
    }
    return overApi(item);
  }

  // The socket's answer comes as a script the server runs (ComposerState.send_from_page); null
  // when none comes in time or the page goes offline meanwhile. Reflex queues an event while
  // its socket reconnects, so the original may still arrive after the API's try: the
  // clientId stores it once.
  const answers = new Map(); // clientId -> resolve
  function overSocket(item) {
    return new Promise((resolve) => {
      const started = Date.now();
      const done = (answer) => {
        clearInterval(watch);
        answers.delete(item.id);
        resolve(answer);
      };
      const watch = setInterval(() => {
        if (offline() || Date.now() - started > SOCKET_WAIT_MS) done(null);
      }, 250);
      answers.set(item.id, done);
      window.chatSendNext = { chatId: item.chat, text: item.text, clientId: item.id };
      if (item.reply && item.reply.seq > 0) window.chatSendNext.replyTo = item.reply.seq;
      click("send-socket");
      window.chatSendNext = null;
    });
  }

  function answered(answer) {
    const done = answer && answers.get(answer.id);
    if (done) done({ status: Number(answer.status) || 0, detail: String(answer.detail || ""), after: Number(answer.after) || 0 });
  }

  async function overApi(item) {
    const body = { chatId: item.chat, text: item.text, clientId: item.id };
    if (item.reply && item.reply.seq > 0) body.replyTo = item.reply.seq;
    const abort = new AbortController();
    const timeout = setTimeout(() => abort.abort(), TIMEOUT_MS);
    try {
      const response = await fetch(`${apiBase()}/api/v1/message`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${sessionToken()}` },
        body: JSON.stringify(body),
        signal: abort.signal,
      });
      let detail = "";
      try {
        detail = (await response.json()).detail || "";
      } catch (e) {}
      const after = Number(response.headers.get("Retry-After"));
      return { status: response.status, detail: typeof detail === "string" ? detail : "", after };
    } catch (e) {
      return { status: 0, detail: "", after: 0 }; // no answer: the network, or a timeout
    } finally {
      clearTimeout(timeout);
    }
  }

  async function paced() {
    const now = Date.now();
    while (sentAt.length && now - sentAt[0] > PACE_WINDOW_MS) sentAt.shift();
    if (sentAt.length >= PACE_MAX) {
      await new Promise((done) => setTimeout(done, PACE_WINDOW_MS - (now - sentAt[0]) + 50));
    }
    sentAt.push(Date.now());
  }

  // One send at a time, oldest first: a chat's messages arrive in the order they were written.
  async function flush() {
    if (flushing || !me()) return;
    flushing = true;
    clearTimeout(timer);
    timer = null;
    try {
      for (;;) {
        const user = me();
        const item = nextDue(queued(user));
        if (!item) break;
        setStatus(item.id, "sending");
        await paced();
        if (me() !== user) break; // signed out (or in as someone else) meanwhile: not theirs to send
        const answer = await post(item);
        if (!(await settle(item, answer, user))) break;
      }
    } finally {
      flushing = false;
      const next = queued(me()).map((i) => (status.get(i.id) || {}).due || 0).filter(Boolean);
      if (next.length) later(Math.max(0, Math.min(...next) - Date.now()));
      render();
    }
  }

  // The oldest message whose turn it is: one that waits holds back the later ones of its chat.
  function nextDue(items) {
    const held = new Set();
    for (const item of items) {
      if (held.has(item.chat) || statusOf(item.id) === "refused") continue;
      const due = (status.get(item.id) || {}).due || 0;
      if (due <= Date.now()) return item;
      held.add(item.chat);
    }
    return null;
  }

  // What an answer means for the message; false stops this flush (the rest waits its turn).
  async function settle(item, answer, user) {
    const { status: code, detail, after } = answer;
    if (code === 200 || code === 201) {
      forget(item.id, user);
      status.delete(item.id);
      stored.set(item.id, { ...item, storedAt: Date.now() });
      render();
      return true;
    }
    if (code === 401) {
      // The session is gone: the page goes to sign-in. The message stays, for this account's
      // next sign-in on this browser.
      setStatus(item.id, "failed");
      return false;
    }
    if (code === 429 || code === 503 || code === 0 || code >= 500) {
      const wait = after > 0 ? Math.min(after, 300) * 1000 : RETRY_MS;
      // Offline, or a busy server, a message simply waits (the clock); one that failed says
      // "Not sent" (and is tried again all the same).
      const state = code === 429 || code === 503 ? "busy" : code === 0 && offline() ? "waiting" : "failed";
      setStatus(item.id, state, Date.now() + wait);
      if (state === "failed") announce("A message was not sent. It will be tried again.");
      for (const other of queued(user)) {
        if (other.id !== item.id && other.chat === item.chat) setStatus(other.id, statusOf(item.id), Date.now() + wait);
      }
      return false;
    }
    // Refused (not valid, not a member, ...): said, never sent again; the text goes back to
    // the box, or, if the box has no room for it, stays on screen as "Not sent" until discarded.
    notSent(detail || "The message was not sent.");
    if (backToComposer(item)) {
      forget(item.id, user);
      status.delete(item.id);
    } else {
      setStatus(item.id, "refused", Infinity);
    }
    render();
    return true;
  }

  const statusOf = (id) => (status.get(id) || {}).state || "sending";

  function setStatus(id, state, due = 0) {
    status.set(id, { state, due });
    render();
  }

  function later(ms) {
    clearTimeout(timer);
    timer = setTimeout(flush, ms);
  }

  function retryNow() {
    for (const [id, s] of status) if (s.state !== "refused") status.set(id, { state: s.state, due: 0 });
    flush();
  }

  function click(id) {
    const el = byId(id);
    if (el) el.click();
  }

  function notSent(reason) {
    window.chatNotSent = reason; // ComposerState.not_sent shows it as a toast, as any refusal
    click("not-sent");
  }

  // The text back where it was written, before whatever is there now (the open chat's box, or
  // that chat's saved draft); false when the two would not fit within the limit together.
  function backToComposer(item) {
    const join = (draft) => (draft.trim() ? `${item.text}\n${draft}` : item.text);
    const el = list();
    const box = byId("composer");
    if (el && box && el.dataset.chat === item.chat) {
      if (chars(join(box.value).trim()) > limit()) return false;
      box.value = join(box.value);
      box.dispatchEvent(new Event("input", { bubbles: true })); // the draft and the counter
      return true;
    }
    const key = `chat-draft:${item.chat}`;
    const draft = join(localStorage.getItem(key) || "");
    if (chars(draft.trim()) > limit()) return false;
    try {
      localStorage.setItem(key, draft); // there when that chat opens
      return true;
    } catch (e) {
      return false;
    }
  }

  // Said to a screen reader (the page's toasts are the server's; this works offline too).
  function announce(text) {
    let region = byId("send-status");
    if (!region) {
      region = element("div", "sr-only");
      region.id = "send-status";
      region.setAttribute("role", "status");
      document.body.append(region);
    }
    region.textContent = "";
    setTimeout(() => (region.textContent = text), 50); // a change, even for the same words
  }

  // --- the composer ------------------------------------------------------------------------------
  const chars = (text) => [...text].length; // as the server counts (an emoji is one)
  const limit = () => Number((byId("composer-count") || {}).dataset?.limit || 4000);

  function replyOf() {
    const banner = byId("reply-banner");
    if (!banner || banner.style.display === "none") return null;
    const seq = Number(banner.dataset.seq || 0);
    return seq > 0 ? { seq, sender: banner.dataset.sender || "", text: banner.dataset.text || "" } : null;
  }

  // Capture phase on window, before the app's handler (React listens on the document): a new
  // message never reaches the page's state; an edit does (chat.js holds it while offline).
  window.addEventListener(
    "submit",
    (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement) || form.id !== "composer-form" || byId("edit-banner")) return;
      event.preventDefault();
      event.stopPropagation();
      const box = byId("composer");
      const el = list();
      const user = me();
      const text = box ? box.value.trim() : "";
      if (!box || !el || !el.dataset.chat || !user || !text || chars(text) > limit()) return;
      const item = { id: newClientId(), chat: el.dataset.chat, text, reply: replyOf(), at: Date.now() };
      if (!keep([...queued(user), item], user)) {
        notSent("This browser would not keep the message (its storage is full or turned off); it was not sent.");
        return;
      }
      // Sent from far up the history (opened at a search result): go to the end, where it goes.
      if (el.dataset.newerWaiting === "true") click("jump-latest");
      status.set(item.id, { state: offline() ? "waiting" : "sending", due: 0 });
      if (item.reply) {
        click("cancel-reply");
        byId("reply-banner").style.display = "none"; // at once, even while the connection is down
      }
      box.value = "";
      box.dispatchEvent(new Event("input", { bubbles: true })); // the draft and the counter
      box.focus();
      render();
      flush();
    },
    true,
  );

  // --- the bubbles drawn here --------------------------------------------------------------------
  // In #unsent, after the rows the page's state draws (React renders it empty and leaves it).
  const fromServer = (el, id) =>
    [...el.querySelectorAll(`.msg-line[data-key="${CSS.escape(id)}"]`)].find((line) => !line.closest("#unsent"));

  function shownItems(el) {
    const chat = el.dataset.chat;
    const now = Date.now();
    for (const [id, item] of stored) {
      if (now - item.storedAt > SHOWN_STORED_MS) stored.delete(id);
    }
    const items = [...stored.values(), ...queued()].filter((i) => i.chat === chat);
    const shown = [];
    for (const item of items) {
      const row = fromServer(el, item.id);
      if (!row) {
        shown.push(item);
      } else {
        // Its row is on screen, so it is stored (even if the answer to the send was lost).
        stored.delete(item.id);
        forget(item.id);
      }
    }
    return shown.sort((a, b) => a.at - b.at);
  }

  function render() {
    const el = list();
    const box = byId("unsent");
    if (!el || !box) return;
    const items = shownItems(el);
    const wanted = new Set(items.map((i) => i.id));
    for (const line of [...box.children]) {
      if (!wanted.has(line.dataset.key)) line.remove();
    }
    items.forEach((item, index) => {
      let line = box.querySelector(`.msg-line[data-key="${CSS.escape(item.id)}"]`);
      if (!line) line = bubble(item);
      const state = stored.has(item.id) ? "stored" : statusOf(item.id);
      if (line.dataset.state !== state) meta(line, state, item);
      if (box.children[index] !== line) box.insertBefore(line, box.children[index] || null);
    });
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text; // text, never HTML
    return node;
  }

  function bubble(item) {
    const line = element("div", "msg-line local-send");
    line.dataset.key = item.id;
    line.dataset.seq = "0";
    line.dataset.mine = "true";
    const msg = element("div", "msg mine");
    if (item.reply) {
      const quote = element("div", "quote");
      quote.append(
        element("span", "rt-Text rt-r-size-1 rt-r-weight-bold", item.reply.sender),
        element("span", "rt-Text rt-r-size-1 quote-text", item.reply.text),
      );
      msg.append(quote);
    }
    msg.append(element("p", "rt-Text rt-r-size-2 msg-text", item.text), element("div", "msg-meta local-meta"));
    line.append(msg);
    return line;
  }

  const clock = (at) => new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

  function meta(line, state, item) {
    line.dataset.state = state;
    const box = line.querySelector(".local-meta");
    box.replaceChildren();
    if (state === "failed" || state === "refused") {
      const retry = element("button", "local-retry", "Retry");
      retry.type = "button";
      const drop = element("button", "local-discard", "×");
      drop.type = "button";
      drop.title = "Discard (the text goes back to the box)";
      drop.setAttribute("aria-label", "Discard the message (the text goes back to the box)");
      box.append(element("span", "rt-Text rt-r-size-1 local-failed", "Not sent"));
      if (state === "failed") box.append(retry);
      box.append(drop);
      return;
    }
    box.append(element("span", "rt-Text rt-r-size-1", clock(item.at)));
    const label = {
      stored: "Sent",
      waiting: "Waiting for the connection",
      busy: "Waiting for the server",
      sending: "Sending",
    }[state];
    box.append(icon(state === "stored" ? CHECK : CLOCK, label));
  }

  // The app's own icons (lucide's check and clock), not emoji: a machine may lack an emoji font.
  const CHECK = [["path", { d: "M20 6 9 17l-5-5" }]];
  const CLOCK = [["circle", { cx: "12", cy: "12", r: "10" }], ["polyline", { points: "12 6 12 12 16 14" }]];

  function icon(shapes, label) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    const attrs = { viewBox: "0 0 24 24", width: "13", height: "13", fill: "none", stroke: "currentColor",
      "stroke-width": "2", "stroke-linecap": "round", "stroke-linejoin": "round", class: "tick", role: "img",
      "aria-label": label };
    for (const [name, value] of Object.entries(attrs)) svg.setAttribute(name, value);
    const title = document.createElementNS(ns, "title");
    title.textContent = label;
    svg.append(title);
    for (const [tag, shapeAttrs] of shapes) {
      const shape = document.createElementNS(ns, tag);
      for (const [name, value] of Object.entries(shapeAttrs)) shape.setAttribute(name, value);
      svg.append(shape);
    }
    return svg;
  }

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const line = target && target.closest("#unsent .msg-line");
    if (!line) return;
    if (target.closest(".local-retry")) {
      retryNow();
    } else if (target.closest(".local-discard")) {
      const item = queued().find((i) => i.id === line.dataset.key);
      if (!item) return;
      if (backToComposer(item)) {
        forget(item.id);
        status.delete(item.id);
        render();
      }
      const box = byId("composer");
      if (box) box.focus();
    }
  });

  // --- when to look again -----------------------------------------------------------------------
  // A row coming from the server, another chat opened, the connection back: draw the bubbles
  // again, and send what waits once the page is connected (the banner gone).
  let wasOffline = offline();
  let wasUser = "";
  new MutationObserver((mutations) => {
    const box = byId("unsent");
    if (box && mutations.every((m) => box.contains(m.target))) return; // our own drawing
    render();
    const now = offline();
    const user = me();
    if ((wasOffline && !now) || (user && user !== wasUser)) retryNow();
    wasOffline = now;
    wasUser = user;
  }).observe(document.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-chat", "data-me"] });

  window.addEventListener("online", retryNow);
  // Signing out on purpose: what this account had not sent leaves the browser with it (the
  // next person at a shared computer must not find it). A session that merely expired keeps it.
  document.addEventListener(
    "click",
    (event) => {
      const target = event.target instanceof Element ? event.target : null;
      if (target && target.closest("#sign-out") && me()) keep([], me());
    },
    true,
  );
  window.addEventListener("storage", (event) => {
    if (event.key === storeKey(me())) render(); // another tab of mine sent or queued
  });

  window.chatSends = { queued, flush, render, answered };
  render();
  if (me()) flush();
})();
