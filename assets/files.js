// The chat page's files and voice messages, in the browser:
// - a file: the paperclip (#attach-file) opens the picker (#file-input); a file dropped on
//   the conversation that is no image comes here too (chat.js). A preview says its name and
//   size, takes a caption, and the upload shows its progress.
// - a voice message: hold the mic (#record) to record, let go to send; a click, Enter or
//   Space starts it and another sends it (the keyboard's way); Escape throws it away. At
//   most 5 minutes (it stops and sends by itself then). Opus in WebM, from MediaRecorder.
//   One too short to mean anything (a quick click-click) is dropped with a hint by the mic.
// Both go straight to the API (POST /api/v1/message, multipart, the session's token as
// Bearer), like images; the stored message comes back through the live events.
(function () {
  if (window.chatFiles) return;
  const byId = (id) => document.getElementById(id);
  const click = (id) => { const el = byId(id); if (el) el.click(); };
  const list = () => byId("messages");
  const offline = () => byId("offline-banner") !== null;
  const uploadRoot = () => document.querySelector(".radix-themes") || document.body;
  const captionMax = () => Number((byId("composer-count") || {}).dataset?.limit || 4000);
  const maxFileBytes = () => Number((byId("file-input") || {}).dataset?.maxBytes || 25 * 1024 * 1024);
  const newClientId = () =>
    window.crypto && crypto.randomUUID ? crypto.randomUUID() : `up-${Date.now()}-${Math.random()}`;
  const MAX_RECORDING_MS = 5 * 60 * 1000;
  const HOLD_MS = 400; // a press shorter than this is a click: recording goes on until the next one
  const MIN_RECORDING_MS = 500;

  function sessionToken() {
    const found = document.cookie.split("; ").find((c) => c.startsWith("chat_session="));
    return found ? decodeURIComponent(found.slice("chat_session=".length)) : "";
  }

  function notSent(reason) {
    window.chatNotSent = reason; // shown as a toast by the server (ComposerState.not_sent)
    click("not-sent");
  }

  function flashOffline() {
    const banner = byId("offline-banner");
    if (banner) banner.dataset.flash = String(Date.now());
  }

  function sizeLabel(size) {
    if (size < 1024) return `${size} B`;
    if (size < 1024 * 1024) return `${Math.round(size / 1024)} KB`;
    return `${(size / (1024 * 1024)).toFixed(1)} MB`;
  }

  function reasonOf(xhrOrText, fallback) {
    try {
      return JSON.parse(xhrOrText).detail || fallback;
    } catch (e) {
      return fallback;
    }
  }

  // --- a file: preview, caption, upload with progress --------------------------------------
  let upload = null; // {file, chat, clientId, xhr}

  function openFile(file) {
    const el = list();
    if (!file || !el || !el.dataset.chat) return;
    if (file.size === 0) return notSent("That file is empty.");
    if (file.size > maxFileBytes()) return notSent(`Files up to ${maxFileBytes() / (1024 * 1024)} MB`);
    closeFile();
    const panel = document.createElement("div");
    panel.id = "file-preview";
    panel.className = "image-preview";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", "Send a file");
    panel.innerHTML = `
      <div class="image-preview-card">
        <div class="file-preview-name"></div>
        <div class="file-preview-meta"></div>
        <textarea id="file-caption" rows="2" placeholder="Add a caption (optional)" aria-label="Caption"></textarea>
        <div class="image-progress" hidden><div class="image-progress-bar"></div></div>
        <div class="image-preview-error" role="alert"></div>
        <div class="image-preview-actions">
          <button type="button" id="file-cancel" class="image-button">Cancel</button>
          <button type="button" id="file-send" class="image-button primary">Send</button>
        </div>
      </div>`;
    panel.querySelector(".file-preview-name").textContent = file.name || "file";
    panel.querySelector(".file-preview-meta").textContent = `${sizeLabel(file.size)} · ${file.type || "file"}`;
    panel.querySelector("#file-caption").maxLength = captionMax();
    upload = { file, chat: el.dataset.chat, clientId: newClientId(), xhr: null };
    uploadRoot().appendChild(panel);
    panel.querySelector("#file-caption").focus();
  }

  function closeFile() {
    if (!upload) return;
    if (upload.xhr) upload.xhr.abort();
    const panel = byId("file-preview");
    if (panel) panel.remove();
    upload = null;
    const box = byId("composer");
    if (box) box.focus();
  }

  function showFileState(state, reason) {
    const panel = byId("file-preview");
    if (!panel) return;
    panel.dataset.state = state;
    panel.querySelector(".image-progress").hidden = state !== "sending";
    panel.querySelector(".image-preview-error").textContent = reason || "";
    panel.querySelector("#file-send").disabled = state === "sending";
    panel.querySelector("#file-send").textContent = state === "failed" ? "Try again" : "Send";
  }

  function sendFile() {
    if (!upload || upload.xhr) return;
    if (offline()) return flashOffline();
    const current = upload;
    const form = new FormData();
    form.append("chatId", current.chat);
    form.append("clientId", current.clientId); // a retry returns the first result
    const caption = (byId("file-caption") || { value: "" }).value.trim();
    if (caption) form.append("text", caption);
    form.append("file", current.file, current.file.name || "file");
    const xhr = new XMLHttpRequest();
    current.xhr = xhr;
    const bar = byId("file-preview").querySelector(".image-progress-bar");
    bar.style.width = "0%";
    showFileState("sending");
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) bar.style.width = `${Math.round((100 * event.loaded) / event.total)}%`;
    };
    xhr.onload = () => {
      current.xhr = null;
      if (upload !== current) return;
      if (xhr.status === 200 || xhr.status === 201) return closeFile();
      const reason = reasonOf(xhr.responseText, "The file was not sent; try again.");
      showFileState("failed", reason);
      notSent(reason);
    };
    xhr.onerror = () => {
      current.xhr = null;
      if (upload !== current) return;
      const reason = "The file was not sent: the connection failed. Try again.";
      showFileState("failed", reason);
      notSent(reason);
    };
    xhr.open("POST", `${list()?.dataset.api || ""}/api/v1/message`);
    xhr.setRequestHeader("Authorization", `Bearer ${sessionToken()}`);
    xhr.send(form);
  }

  // --- a voice message: hold (or click) to record --------------------------------------------
  let recording = null; // {recorder, stream, chunks, started, pressedAt, held, timer, cancelled, chat}

  function setRecordingUi(on) {
    const button = byId("record");
    if (button) {
      button.dataset.recording = on ? "1" : "";
      button.setAttribute("aria-pressed", on ? "true" : "false");
      button.setAttribute("aria-label", on ? "Stop and send the voice message" : "Record a voice message");
    }
    const shown = byId("record-time");
    if (!on && shown) shown.remove();
    if (on && byId("record-hint")) byId("record-hint").remove();
    if (on && !shown) {
      const time = document.createElement("div");
      time.id = "record-time";
      time.setAttribute("role", "timer");
      time.setAttribute("aria-label", "Recording");
      time.textContent = "0:00";
      const form = byId("composer-form");
      if (form) form.appendChild(time);
    }
  }

  let hintTimer = null;
  function showHint(text) {
    let hint = byId("record-hint");
    const form = byId("composer-form");
    if (!hint && form) {
      hint = document.createElement("div");
      hint.id = "record-hint";
      hint.setAttribute("role", "status");
      form.appendChild(hint);
    }
    if (!hint) return;
    requestAnimationFrame(() => (hint.textContent = text)); // filled after it exists: announced
    clearTimeout(hintTimer);
    hintTimer = setTimeout(() => hint.remove(), 4000);
  }

  function tick() {
    if (!recording) return;
    const elapsed = Date.now() - recording.started;
    const seconds = Math.floor(elapsed / 1000);
    const shown = byId("record-time");
    if (shown) shown.textContent = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
    if (elapsed >= MAX_RECORDING_MS) stopRecording(false);
  }

  async function startRecording(held) {
    const el = list();
    if (recording || !el || !el.dataset.chat) return;
    if (offline()) return flashOffline();
    if (!navigator.mediaDevices || !window.MediaRecorder) {
      return notSent("This browser cannot record audio.");
    }
    const type = "audio/webm;codecs=opus";
    if (!MediaRecorder.isTypeSupported(type)) {
      return notSent("This browser cannot record Opus audio in WebM, which voice messages are.");
    }
    const pending = {
      held,
      byPointer: held, // pressed (not Enter/Space): a too-short one gets the pointer's hint
      pressedAt: Date.now(),
      cancelled: false,
      chat: el.dataset.chat,
      starting: true,
    };
    recording = pending;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (e) {
      recording = null;
      return notSent("The microphone is not available: allow it for this site to record.");
    }
    if (recording !== pending || pending.cancelled) {
      stream.getTracks().forEach((t) => t.stop());
      if (recording === pending) recording = null;
      return;
    }
    const recorder = new MediaRecorder(stream, { mimeType: type, audioBitsPerSecond: 48000 });
    Object.assign(pending, { recorder, stream, chunks: [], started: Date.now(), starting: false });
    recorder.ondataavailable = (event) => {
      if (event.data && event.data.size) pending.chunks.push(event.data);
    };
    recorder.onstop = () => finishRecording(pending);
    recorder.start();
    pending.timer = setInterval(tick, 250);
    setRecordingUi(true);
    if (pending.stopWhenStarted) stopRecording(pending.stopWhenStarted === "cancel");
  }

  function stopRecording(cancel) {
    const current = recording;
    if (!current || current.stopped) return;
    if (current.starting) {
      current.stopWhenStarted = cancel ? "cancel" : "send"; // let go before the microphone opened
      if (cancel) current.cancelled = true;
      return;
    }
    current.cancelled = cancel;
    current.stopped = true;
    clearInterval(current.timer);
    if (current.recorder.state !== "inactive") current.recorder.stop();
    setRecordingUi(false);
  }

  function finishRecording(current) {
    current.stream.getTracks().forEach((t) => t.stop());
    if (recording === current) recording = null;
    if (current.cancelled) return;
    const length = Date.now() - current.started;
    // Too short to be meant (a quick click-click, a tap): nothing was sent and nothing went
    // wrong, so a hint beside the mic says how it works, not an error toast.
    if (length < MIN_RECORDING_MS) {
      return showHint(current.byPointer ? "Hold to record, let go to send" : "Too short: speak, then press again");
    }
    sendVoice(new Blob(current.chunks, { type: "audio/webm" }), current.chat);
  }

  async function sendVoice(blob, chat) {
    const form = new FormData();
    form.append("chatId", chat);
    form.append("clientId", newClientId());
    form.append("voice", blob, "voice.webm");
    try {
      const answer = await fetch(`${list()?.dataset.api || ""}/api/v1/message`, {
        method: "POST",
        headers: { Authorization: `Bearer ${sessionToken()}` },
        body: form,
      });
      if (!answer.ok) notSent(reasonOf(await answer.text(), "The voice message was not sent; try again."));
    } catch (e) {
      notSent("The voice message was not sent: the connection failed. Try again.");
    }
  }

  // Pointer: press and hold records, letting go sends; a short press is a click (toggle).
  document.addEventListener("pointerdown", (event) => {
    const button = event.target instanceof Element ? event.target.closest("#record") : null;
    if (!button || event.button !== 0) return;
    event.preventDefault(); // no focus change, no text selection while holding
    if (recording) {
      stopRecording(false); // the second click of the click-to-record way
      return;
    }
    startRecording(true);
    if (button.setPointerCapture) button.setPointerCapture(event.pointerId);
  });
  document.addEventListener("pointerup", (event) => {
    const current = recording;
    if (!current || !current.held) return;
    if (Date.now() - current.pressedAt < HOLD_MS) {
      current.held = false; // a click: keep recording until the next one
      return;
    }
    stopRecording(false);
  });
  document.addEventListener("contextmenu", (event) => {
    // A long press on a phone opens a menu: not on the button being held to record.
    if (event.target instanceof Element && event.target.closest("#record")) event.preventDefault();
  });
  document.addEventListener("pointercancel", () => {
    if (recording && recording.held) stopRecording(true);
  });

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    if (target.closest("#record")) {
      if (event.detail !== 0) return; // a pointer's click: pointerdown/up did it
      if (recording) stopRecording(false);
      else startRecording(false); // Enter or Space: click to start, click again to send
    } else if (target.closest("#attach-file")) {
      click("file-input");
    } else if (target.closest("#file-send")) {
      sendFile();
    } else if (target.closest("#file-cancel") || target.id === "file-preview") {
      closeFile();
    }
  });

  document.addEventListener("change", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.id !== "file-input") return;
    const file = input.files && input.files[0];
    input.value = ""; // the same file can be picked again
    if (file) openFile(file);
  });

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      if (recording) {
        stopRecording(true);
        event.stopPropagation();
      } else if (byId("file-preview") && !(upload && upload.xhr)) {
        closeFile();
      }
      return;
    }
    const target = event.target;
    if (target instanceof HTMLTextAreaElement && target.id === "file-caption") {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        sendFile();
      }
    }
  });

  window.chatFiles = {
    open: openFile,
    state: () => ({ recording: !!recording, uploading: !!(upload && upload.xhr) }),
  };
})();
