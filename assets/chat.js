// The chat page's browser side: what only the browser knows or should decide.
// - the scroll position: stick to the bottom only when the reader is there, keep the
//   view still when older messages load above, and a "new messages" pill otherwise;
// - whether the reader sees the bottom (visible tab, scrolled down): the server marks
//   the chat read only then;
// - the composer: Enter sends, Shift+Enter is a new line, the 4,000-character limit,
//   and a draft per chat kept in localStorage while switching.
// - images: attach, paste or drop one, a preview with a caption, the upload with its
//   progress (straight to the API), and a click on a thumbnail that shows the full size;
// - a chat opened at one message (a search result, a clicked quote): scroll to it and
//   flash it, page in newer messages as the reader scrolls down, until the live end.
// It talks to the server only by clicking the page's hidden buttons (#load-older,
// #load-newer, #attn-on, #attn-off, #jump-latest, #not-sent), and for images through
// the API. Listeners sit on the document, so they survive
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

  function centre(el, line) {
    const at = line.getBoundingClientRect();
    el.scrollTop += at.top - el.getBoundingClientRect().top - (el.clientHeight - at.height) / 2;
    measure(el);
  }

  // Opened at a message: centre it and flash it, once per request.
  function showFocus(el) {
    const focus = el.dataset.focus || "";
    if (!focus || focus === focusDone) return false;
    const line = el.querySelector(`.msg-line[data-seq="${CSS.escape(focus.split(":")[0])}"]`);
    if (!line) return false;
    focusDone = focus;
    centre(el, line);
    pill(false);
    line.classList.remove("focused");
    void line.offsetWidth; // restart the animation when the same line is asked for again
    line.classList.add("focused");
    setTimeout(() => line.classList.remove("focused"), 2600);
    // Asked for from the list (the focus was on a message, in a message's menu, or lost with
    // a row the new page redrew): the focus goes there too, as the keyboard needs it.
    const active = document.activeElement;
    const fromList = !active || active === document.body || el.contains(active) || active.closest(".msg-menu");
    if (fromList) {
      if (active !== line) line.focus({ preventScroll: true });
      holdFocus(el, line.dataset.key);
    }
    return true;
  }

  // For a moment after that, the closing menu (Radix gives the focus back to its trigger,
  // whose row may show another message by then: rows are drawn by index) and late redraws
  // may move the focus (or the view) within the list: both go back to the message shown, until
  // the reader presses a key or the pointer, or scrolls.
  function holdFocus(el, key) {
    let held = true;
    const release = () => (held = false);
    document.addEventListener("keydown", release, { once: true, capture: true });
    for (const type of ["pointerdown", "wheel", "touchstart"]) {
      document.addEventListener(type, release, { once: true, capture: true, passive: true });
    }
    const settle = () => {
      const wanted = el.querySelector(`.msg-line[data-key="${CSS.escape(key)}"]`);
      if (!held || !wanted) return;
      // A late redraw (a page laid out after the jump) may have scrolled it away: back to it.
      const box = el.getBoundingClientRect();
      const at = wanted.getBoundingClientRect();
      if (at.bottom <= box.top || at.top >= box.bottom) centre(el, wanted);
      const now = document.activeElement;
      if (now === wanted) return;
      if (!now || now === document.body || el.contains(now)) wanted.focus({ preventScroll: true });
    };
    for (const ms of [100, 300, 700, 1500, 3000]) setTimeout(settle, ms);
    setTimeout(release, 3100);
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

  // While the connection is down the app shows #offline-banner; an edit then waits in the
  // box (a new message is drawn and kept by sends.js until it is stored).
  const offline = () => byId("offline-banner") !== null;

  // --- the message list changed (a new chat, new messages, an older page) ------------------
  function onListChanged() {
    if (byId("session-ended")) {
      // Signed out in another tab, or everywhere: this page's session is gone too.
      window.location.replace("/login?ended=1");
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
    attributeFilter: ["data-chat", "data-newer-waiting", "data-focus"], // data-focus alone: a quote clicked
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

  // Capture phase on window, before the app's handler (React listens on the document). A new
  // message is sends.js's (it never reaches the app's handler); an edit goes to the server
  // over the page's connection: an empty or over-long one, or any while offline, never
  // reaches it, and the text stays where it is.
  window.addEventListener(
    "submit",
    (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement) || form.id !== "composer-form") return;
      if (!byId("edit-banner")) return;
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

  // Bubble phase on window, after the app's handler has read the form (an edit): empty the
  // box at once, so the next keystroke or a second Enter starts anew.
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

  // --- images: attach, paste or drop -> a preview with a caption -> upload with progress --
  // The file goes straight to the API (POST /api/v1/message, multipart) with the session's
  // token as Bearer, over XMLHttpRequest for real upload progress; the page state never
  // holds it. The stored message comes back like any other, through the live events.
  let upload = null; // {file, url, chat, clientId, xhr}

  function sessionToken() {
    const found = document.cookie.split("; ").find((c) => c.startsWith("chat_session="));
    return found ? decodeURIComponent(found.slice("chat_session=".length)) : "";
  }

  function notSent(reason) {
    // The server shows it as a toast (ComposerState.not_sent), like every other refusal.
    window.chatNotSent = reason;
    click("not-sent");
  }

  const maxBytes = () => Number((byId("image-input") || {}).dataset?.maxBytes || 5 * 1024 * 1024);
  const uploadRoot = () => document.querySelector(".radix-themes") || document.body;
  const newClientId = () =>
    window.crypto && crypto.randomUUID ? crypto.randomUUID() : `img-${Date.now()}-${Math.random()}`;

  // --- what may be sent, and a photo over the limit made smaller first ------------------------
  // The types the server takes: the file input's `accept` (conversation.py IMAGE_TYPES).
  const sendableTypes = () => ((byId("image-input") || {}).accept || "").split(",");
  const MAX_EDGE = 2560; // px: a scaled-down photo's longer side (still sharp full screen)
  const isHeic = (file) => /^image\/hei[cf]/.test(file.type) || /\.hei[cf]$/i.test(file.name || "");

  async function decode(file) {
    // "from-image": the photo's EXIF orientation is applied, so a portrait stays upright.
    try {
      return await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch (e) {
      return null;
    }
  }

  async function shrink(bitmap, name, limit) {
    // A JPEG no larger than `limit`: the longer side down to MAX_EDGE (then smaller), the
    // quality down step by step. The re-encoding also drops the photo's metadata.
    let edge = Math.min(MAX_EDGE, Math.max(bitmap.width, bitmap.height));
    for (let attempt = 0; attempt < 6; attempt++) {
      const scale = edge / Math.max(bitmap.width, bitmap.height);
      const canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(bitmap.width * scale));
      canvas.height = Math.max(1, Math.round(bitmap.height * scale));
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      for (const quality of [0.85, 0.72]) {
        const blob = await new Promise((done) => canvas.toBlob(done, "image/jpeg", quality));
        if (blob && blob.size <= limit) {
          return new File([blob], (name || "photo").replace(/\.[^.]*$/, "") + ".jpg", { type: "image/jpeg" });
        }
      }
      edge = Math.round(edge * 0.75);
    }
    return null;
  }

  async function prepared(file) {
    // The file to preview and upload, or null once the reason is shown (before any preview).
    // It is decoded once: that proves it an image, and a photo over the limit is drawn from it.
    const heic = isHeic(file);
    const bitmap = heic || sendableTypes().includes(file.type) ? await decode(file) : null;
    if (!bitmap) {
      notSent(
        heic
          ? "This browser cannot read HEIC photos: share it as JPEG (Most Compatible) instead."
          : "That file is not an image: JPEG, PNG, GIF or WebP can be sent.",
      );
      return null;
    }
    try {
      if (!heic && file.size <= maxBytes()) return file;
      if (file.type === "image/gif") {
        notSent(`Animated images up to ${maxBytes() / (1024 * 1024)} MB`);
        return null;
      }
      const smaller = await shrink(bitmap, file.name, maxBytes());
      if (!smaller) notSent(`Images up to ${maxBytes() / (1024 * 1024)} MB`);
      return smaller;
    } finally {
      bitmap.close();
    }
  }

  async function openPreview(picked) {
    const el = list();
    if (!picked || !el || !el.dataset.chat) return;
    const file = await prepared(picked);
    if (!file || list() !== el) return;
    closePreview();
    const panel = document.createElement("div");
    panel.id = "image-preview";
    panel.className = "image-preview";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", "Send an image");
    panel.innerHTML = `
      <div class="image-preview-card">
        <img class="image-preview-img" alt="The image to send">
        <textarea id="image-caption" rows="2" placeholder="Add a caption (optional)"></textarea>
        <div class="image-progress" hidden><div class="image-progress-bar"></div></div>
        <div class="image-preview-error" role="alert"></div>
        <div class="image-preview-actions">
          <button type="button" id="image-cancel" class="image-button">Cancel</button>
          <button type="button" id="image-send" class="image-button primary">Send</button>
        </div>
      </div>`;
    upload = { file, url: URL.createObjectURL(file), chat: el.dataset.chat, clientId: newClientId(), xhr: null };
    panel.querySelector("img").src = upload.url;
    panel.querySelector("#image-caption").maxLength = limit();
    uploadRoot().appendChild(panel);
    panel.querySelector("#image-caption").focus();
  }

  function closePreview() {
    if (!upload) return;
    if (upload.xhr) upload.xhr.abort();
    URL.revokeObjectURL(upload.url);
    const panel = byId("image-preview");
    if (panel) panel.remove();
    upload = null;
    const box = byId("composer");
    if (box) box.focus();
  }

  function showUploadState(state, reason) {
    const panel = byId("image-preview");
    if (!panel) return;
    panel.dataset.state = state;
    panel.querySelector(".image-progress").hidden = state !== "sending";
    panel.querySelector(".image-preview-error").textContent = reason || "";
    panel.querySelector("#image-send").disabled = state === "sending";
    panel.querySelector("#image-send").textContent = state === "failed" ? "Try again" : "Send";
  }

  function sendImage() {
    if (!upload || upload.xhr) return;
    if (offline()) {
      const banner = byId("offline-banner");
      if (banner) banner.dataset.flash = String(Date.now());
      return;
    }
    const current = upload;
    const form = new FormData();
    form.append("chatId", current.chat);
    form.append("clientId", current.clientId); // a retry returns the first result
    const caption = (byId("image-caption") || { value: "" }).value.trim();
    if (caption) form.append("text", caption);
    form.append("image", current.file, current.file.name || "image");
    const xhr = new XMLHttpRequest();
    current.xhr = xhr;
    const bar = byId("image-preview").querySelector(".image-progress-bar");
    bar.style.width = "0%";
    showUploadState("sending");
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) bar.style.width = `${Math.round((100 * event.loaded) / event.total)}%`;
    };
    xhr.onload = () => {
      current.xhr = null;
      if (upload !== current) return;
      if (xhr.status === 200 || xhr.status === 201) {
        closePreview();
        return;
      }
      let reason = "The image was not sent; try again.";
      try {
        reason = JSON.parse(xhr.responseText).detail || reason;
      } catch (e) {}
      showUploadState("failed", reason);
      notSent(reason);
    };
    xhr.onerror = () => {
      current.xhr = null;
      if (upload !== current) return;
      const reason = "The image was not sent: the connection failed. Try again.";
      showUploadState("failed", reason);
      notSent(reason);
    };
    xhr.open("POST", `${list()?.dataset.api || ""}/api/v1/message`);
    xhr.setRequestHeader("Authorization", `Bearer ${sessionToken()}`);
    xhr.send(form);
  }


  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    if (target.closest("#attach")) {
      const input = byId("image-input");
      if (input) input.click();
    } else if (target.closest("#image-send")) {
      sendImage();
    } else if (target.closest("#image-cancel") || target.id === "image-preview") {
      closePreview();
    } else if (target.closest("#lightbox")) {
      byId("lightbox").remove();
    } else {
      const link = target.closest("a.msg-image");
      if (link && !event.ctrlKey && !event.metaKey && !event.shiftKey && event.button === 0) {
        // Full size over the page; a middle click or Ctrl+click still opens a tab.
        event.preventDefault();
        const box = document.createElement("div");
        box.id = "lightbox";
        box.className = "lightbox";
        box.setAttribute("role", "dialog");
        box.setAttribute("aria-label", "Image, full size (click to close)");
        const full = document.createElement("img");
        full.src = link.href;
        full.alt = "Image, full size";
        box.appendChild(full);
        uploadRoot().appendChild(box);
      }
    }
  });

  document.addEventListener("change", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.id !== "image-input") return;
    const file = input.files && input.files[0];
    input.value = ""; // the same file can be picked again
    if (file) openPreview(file);
  });

  // A photo the server takes (or a HEIC one, made JPEG here) gets the image preview; any other
  // file, an SVG or a BMP as well as a PDF, is sent as a file (assets/files.js).
  const isPhoto = (file) => sendableTypes().includes(file.type) || isHeic(file);
  function openAny(file) {
    if (isPhoto(file) || !window.chatFiles) openPreview(file);
    else window.chatFiles.open(file);
  }

  document.addEventListener("paste", (event) => {
    if (!list() || byId("image-preview") || byId("file-preview")) return;
    const files = event.clipboardData ? [...event.clipboardData.files] : [];
    const file = files.find(isPhoto) || files[0];
    if (file) {
      event.preventDefault();
      openAny(file);
    }
  });

  const dragsFiles = (event) => event.dataTransfer && [...event.dataTransfer.types].includes("Files");
  document.addEventListener("dragover", (event) => {
    const zone = event.target instanceof Element ? event.target.closest(".conversation") : null;
    if (!zone || !list() || !dragsFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    zone.dataset.dropping = "1";
  });
  document.addEventListener("dragleave", (event) => {
    const zone = event.target instanceof Element ? event.target.closest(".conversation") : null;
    if (zone && !zone.contains(event.relatedTarget)) delete zone.dataset.dropping;
  });
  document.addEventListener("drop", (event) => {
    const zone = event.target instanceof Element ? event.target.closest(".conversation") : null;
    if (!zone || !dragsFiles(event)) return;
    event.preventDefault();
    delete zone.dataset.dropping;
    const file = event.dataTransfer.files[0];
    if (file) openAny(file);
  });

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      const box = byId("lightbox");
      if (box) box.remove();
      else if (byId("image-preview") && !(upload && upload.xhr)) closePreview();
      return;
    }
    const target = event.target;
    if (target instanceof HTMLTextAreaElement && target.id === "image-caption") {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        sendImage();
      }
    }
  });

  window.chatPage = { state: () => ({ atBottom, attentive, chatId, uploading: !!(upload && upload.xhr) }) };
  onListChanged();
})();
