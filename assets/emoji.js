// The composer's emoji picker. #emoji-button opens #emoji-panel (Reflex renders it empty;
// it is drawn here): common emoji in a few groups, each button named ("grinning face").
// A click, or Enter on the focused one, puts the emoji at the composer's caret (replacing
// its selection, as typing would) and the panel stays open for more; Escape, the button
// again, or a click outside closes it and gives the focus back to the composer. Arrow keys
// move between emoji, Home and End go to the first and last; the grid is one Tab stop.
// Nothing goes to the server per pick: the composer's own input event carries the draft.
// Listeners are on document (Reflex redraws the composer on client-side navigation).
//
// It also links the bundled emoji font's sheet (/fonts/emoji/emoji.css, made from the npm
// package by scripts/emoji_font.py); chat.css names the family as a fallback.
(function () {
  if (window.chatEmoji) return;
  const byId = (id) => document.getElementById(id);

  const GROUPS = [
    [
      "Smileys",
      [
        ["😀", "grinning face"],
        ["😃", "grinning face with big eyes"],
        ["😄", "grinning face with smiling eyes"],
        ["😁", "beaming face with smiling eyes"],
        ["😆", "grinning squinting face"],
        ["😅", "grinning face with sweat"],
        ["🤣", "rolling on the floor laughing"],
        ["😂", "face with tears of joy"],
        ["🙂", "slightly smiling face"],
        ["😉", "winking face"],
        ["😊", "smiling face with smiling eyes"],
        ["😇", "smiling face with halo"],
        ["🥰", "smiling face with hearts"],
        ["😍", "smiling face with heart-eyes"],
        ["😘", "face blowing a kiss"],
        ["😋", "face savoring food"],
        ["😜", "winking face with tongue"],
        ["🤪", "zany face"],
        ["🤗", "smiling face with open hands"],
        ["🤔", "thinking face"],
        ["🤨", "face with raised eyebrow"],
        ["😐", "neutral face"],
        ["🙄", "face with rolling eyes"],
        ["😏", "smirking face"],
        ["😬", "grimacing face"],
        ["😌", "relieved face"],
        ["😴", "sleeping face"],
        ["🥳", "partying face"],
        ["😎", "smiling face with sunglasses"],
        ["😕", "confused face"],
        ["😮", "face with open mouth"],
        ["😳", "flushed face"],
        ["🥺", "pleading face"],
        ["😢", "crying face"],
        ["😭", "loudly crying face"],
        ["😱", "face screaming in fear"],
        ["😡", "enraged face"],
        ["🤯", "exploding head"],
      ],
    ],
    [
      "Gestures",
      [
        ["👍", "thumbs up"],
        ["👎", "thumbs down"],
        ["👌", "OK hand"],
        ["✌️", "victory hand"],
        ["🤞", "crossed fingers"],
        ["👋", "waving hand"],
        ["👏", "clapping hands"],
        ["🙌", "raising hands"],
        ["🙏", "folded hands"],
        ["💪", "flexed biceps"],
        ["🤝", "handshake"],
        ["👉", "backhand index pointing right"],
        ["👀", "eyes"],
        ["🤷", "person shrugging"],
        ["🤦", "person facepalming"],
      ],
    ],
    [
      "Hearts",
      [
        ["❤️", "red heart"],
        ["🧡", "orange heart"],
        ["💛", "yellow heart"],
        ["💚", "green heart"],
        ["💙", "blue heart"],
        ["💜", "purple heart"],
        ["🖤", "black heart"],
        ["🤍", "white heart"],
        ["💔", "broken heart"],
        ["💕", "two hearts"],
        ["💖", "sparkling heart"],
      ],
    ],
    [
      "Things",
      [
        ["🎉", "party popper"],
        ["🎂", "birthday cake"],
        ["🎁", "wrapped gift"],
        ["🔥", "fire"],
        ["✨", "sparkles"],
        ["⭐", "star"],
        ["☀️", "sun"],
        ["🌈", "rainbow"],
        ["☕", "hot beverage"],
        ["🍕", "pizza"],
        ["🍻", "clinking beer mugs"],
        ["📷", "camera"],
        ["💡", "light bulb"],
        ["📌", "pushpin"],
        ["⏰", "alarm clock"],
        ["🚀", "rocket"],
        ["💯", "hundred points"],
        ["✅", "check mark button"],
        ["❌", "cross mark"],
        ["❓", "red question mark"],
      ],
    ],
  ];

  function linkFontSheet() {
    if (byId("emoji-font")) return;
    const link = document.createElement("link");
    link.id = "emoji-font";
    link.rel = "stylesheet";
    link.href = "/fonts/emoji/emoji.css";
    document.head.appendChild(link);
  }

  const panel = () => byId("emoji-panel");
  const toggle = () => byId("emoji-button");
  const composer = () => byId("composer");
  const isOpen = () => !!panel() && !panel().hidden;
  const ours = (node) => !!(panel()?.contains(node) || toggle()?.contains(node));
  const options = () => [...(panel()?.querySelectorAll(".emoji-option") || [])];
  const limit = () => Number(byId("composer-count")?.dataset.limit || 4000);
  // Characters as the server counts them (code points), as chat.js counts them.
  const chars = (text) => [...text].length;

  function option(emoji, name) {
    const button = document.createElement("button");
    button.type = "button"; // inside the composer's form: never a submit
    button.className = "emoji-option";
    button.textContent = emoji;
    button.dataset.emoji = emoji;
    button.setAttribute("aria-label", name);
    button.title = name;
    button.tabIndex = -1;
    return button;
  }

  function group([title, emoji], index) {
    const box = document.createElement("div");
    box.className = "emoji-group";
    box.setAttribute("role", "group");
    const heading = document.createElement("div");
    heading.className = "emoji-group-name";
    heading.id = `emoji-group-${index}`;
    heading.textContent = title;
    box.setAttribute("aria-labelledby", heading.id);
    const grid = document.createElement("div");
    grid.className = "emoji-grid";
    grid.append(...emoji.map(([glyph, name]) => option(glyph, name)));
    box.append(heading, grid);
    return box;
  }

  // Drawn once per container: a redrawn composer brings an empty one.
  function draw(container) {
    if (container.querySelector(".emoji-option")) return;
    container.replaceChildren(...GROUPS.map(group));
    container.querySelector(".emoji-option").tabIndex = 0;
  }

  // The one emoji the Tab key stops at: the last one focused or picked.
  function current() {
    return options().find((button) => button.tabIndex === 0) || options()[0];
  }

  function moveTo(button) {
    for (const other of options()) other.tabIndex = other === button ? 0 : -1;
    button.focus();
  }

  function open() {
    const container = panel();
    if (!container) return;
    draw(container);
    container.hidden = false;
    toggle()?.setAttribute("aria-expanded", "true");
    moveTo(current());
  }

  function close(focusComposer) {
    const container = panel();
    if (container) container.hidden = true;
    toggle()?.setAttribute("aria-expanded", "false");
    if (focusComposer) composer()?.focus();
  }

  // At the caret, over the selection; the caret ends after the emoji. False when the text
  // would pass the composer's limit (its counter says how close it is).
  function insert(emoji) {
    const box = composer();
    if (!box) return false;
    const { selectionStart: start, selectionEnd: end, value } = box;
    const next = value.slice(0, start) + emoji + value.slice(end);
    if (chars(next.trim()) > limit()) return false;
    box.setRangeText(emoji, start, end, "end");
    box.dispatchEvent(new Event("input", { bubbles: true })); // the draft and the counter follow
    return true;
  }

  const centre = (rect) => rect.left + rect.width / 2;

  // The nearest emoji in the row above or below (rows differ in length between groups).
  function vertical(from, down) {
    const here = from.getBoundingClientRect();
    const candidates = options()
      .map((button) => ({ button, rect: button.getBoundingClientRect() }))
      .filter(({ rect }) => (down ? rect.top > here.bottom - 1 : rect.bottom < here.top + 1));
    if (candidates.length === 0) return from;
    const rowTop = down
      ? Math.min(...candidates.map(({ rect }) => rect.top))
      : Math.max(...candidates.map(({ rect }) => rect.top));
    const row = candidates.filter(({ rect }) => Math.abs(rect.top - rowTop) < 1);
    row.sort((a, b) => Math.abs(centre(a.rect) - centre(here)) - Math.abs(centre(b.rect) - centre(here)));
    return row[0].button;
  }

  function neighbour(from, key) {
    const all = options();
    const at = all.indexOf(from);
    switch (key) {
      case "ArrowLeft":
        return all[Math.max(0, at - 1)];
      case "ArrowRight":
        return all[Math.min(all.length - 1, at + 1)];
      case "ArrowUp":
        return vertical(from, false);
      case "ArrowDown":
        return vertical(from, true);
      case "Home":
        return all[0];
      case "End":
        return all[all.length - 1];
      default:
        return null;
    }
  }

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    if (target.closest("#emoji-button")) {
      if (isOpen()) close(true);
      else open();
      return;
    }
    const button = target.closest(".emoji-option");
    if (!button || !panel()?.contains(button)) return;
    insert(button.dataset.emoji);
    moveTo(button); // the panel stays open, the next pick starts here
  });

  document.addEventListener("keydown", (event) => {
    const from = event.target instanceof Element ? event.target.closest(".emoji-option") : null;
    if (!from || event.altKey || event.ctrlKey || event.metaKey) return;
    const to = neighbour(from, event.key);
    if (!to) return; // Enter and Space click the button: it inserts
    event.preventDefault();
    moveTo(to);
  });

  // Escape closes the panel, and nothing else hears it (chat.js would close an image preview).
  window.addEventListener(
    "keydown",
    (event) => {
      if (event.key !== "Escape" || !isOpen()) return;
      if (!(event.target instanceof Node) || !ours(event.target)) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      close(true);
    },
    true,
  );

  // A press outside closes it. On nothing in particular (the page, a message's text) the
  // focus goes back to the composer; on something that takes the focus (a link, a chat
  // row, the composer itself) that thing keeps it.
  document.addEventListener("mousedown", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!isOpen() || !target || panel().contains(target) || target.closest("#emoji-button")) return;
    const focusable = target.closest("a[href], button, input, textarea, select, [tabindex], [contenteditable]");
    close(!focusable);
    if (!focusable) event.preventDefault(); // or the press would take the focus to the page
  });

  // The focus leaving the panel and its button (Tab to the attach button, Shift+Tab to the
  // composer) closes it: while it is open, the keys belong to it.
  document.addEventListener("focusout", (event) => {
    const next = event.relatedTarget instanceof Node ? event.relatedTarget : null;
    if (isOpen() && next && ours(event.target) && !ours(next)) close(false);
  });

  linkFontSheet();
  window.chatEmoji = { open, close, insert };
})();
