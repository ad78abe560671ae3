// @ completion in a group's composer: typing "@" and the start of a member's name offers
// the members who match (#mention-list, filled from its data-names); ArrowUp/ArrowDown
// move, Enter or Tab (or a click) puts "@Full Name " in the text, Escape closes.
// Listening on window in the capture phase lets Enter pick a name instead of sending.
(function () {
  if (window.chatMentions) return;
  const byId = (id) => document.getElementById(id);
  const MAX_SHOWN = 6;
  let matches = [];
  let selected = 0;
  let query = null; // {start, end}: the "@..." being typed, as offsets in the box

  const names = () => {
    try {
      return JSON.parse(byId("mention-list")?.dataset.names || "[]");
    } catch (e) {
      return [];
    }
  };

  function typedQuery(box) {
    const before = box.value.slice(0, box.selectionStart);
    const found = /(^|[^\p{L}\p{N}_])@([^@\n]{0,40})$/u.exec(before);
    if (!found) return null;
    const start = before.length - found[2].length - 1;
    return { start, end: box.selectionStart, text: found[2] };
  }

  function matching(text) {
    const wanted = text.toLocaleLowerCase();
    return names()
      .filter((name) => {
        const lower = name.toLocaleLowerCase();
        return lower.startsWith(wanted) || lower.split(/\s+/).some((word) => word.startsWith(wanted));
      })
      .slice(0, MAX_SHOWN);
  }

  function close() {
    matches = [];
    query = null;
    const list = byId("mention-list");
    if (list) list.hidden = true;
  }

  function draw() {
    const list = byId("mention-list");
    if (!list) return;
    list.replaceChildren(
      ...matches.map((name, i) => {
        const option = document.createElement("div");
        option.className = "mention-option";
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", String(i === selected));
        option.dataset.name = name;
        option.textContent = name; // text, never HTML: a name is user input
        return option;
      }),
    );
    list.hidden = matches.length === 0;
  }

  function pick(name) {
    const box = byId("composer");
    if (!box || !query) return;
    const inserted = `@${name} `;
    box.value = box.value.slice(0, query.start) + inserted + box.value.slice(query.end);
    const caret = query.start + inserted.length;
    box.setSelectionRange(caret, caret);
    close();
    box.dispatchEvent(new Event("input", { bubbles: true })); // the draft and the counter follow
    box.focus();
  }

  document.addEventListener("input", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLTextAreaElement) || box.id !== "composer") return;
    const typed = typedQuery(box);
    if (!typed) return close();
    const found = matching(typed.text);
    if (found.length === 0) return close();
    query = typed;
    if (found.join("\n") !== matches.join("\n")) selected = 0;
    matches = found;
    draw();
  });

  window.addEventListener(
    "keydown",
    (event) => {
      const box = event.target;
      if (!(box instanceof HTMLTextAreaElement) || box.id !== "composer" || matches.length === 0) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        selected = (selected + (event.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length;
        draw();
      } else if ((event.key === "Enter" && !event.shiftKey) || event.key === "Tab") {
        pick(matches[selected]);
      } else if (event.key === "Escape") {
        close();
      } else {
        return;
      }
      event.preventDefault();
      event.stopImmediatePropagation();
    },
    true,
  );

  document.addEventListener("mousedown", (event) => {
    const option = event.target instanceof Element ? event.target.closest(".mention-option") : null;
    if (!option) return;
    event.preventDefault(); // keep the focus in the box
    pick(option.dataset.name);
  });

  document.addEventListener("focusout", (event) => {
    if (event.target instanceof HTMLElement && event.target.id === "composer") setTimeout(close, 150);
  });

  window.chatMentions = { close };
})();
