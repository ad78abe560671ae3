"""Where a message's text holds links and @mentions, as (start, end) spans of the text.

Pure string work: the page turns the spans into elements over pieces of the text (an
anchor, a marked span), never into HTML. Only `http://`, `https://` and bare `www.`
addresses are links; any other scheme (`javascript:`, `data:`, `ftp:` …) stays text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# A link starts with http(s):// or www. where no word, address or path goes on before it
# ("javascript:https://…", "bob@www.x", "a.www.x" are not links) and runs to a space, a
# quote, an angle bracket, a control character or an invisible formatting character
# (zero-width and bidirectional marks would hide what the link really is).
_LINK = re.compile(
    r"(?<![\w@/:.+\-])(?:https?://|www\.)"
    r"[^\s<>\"`\x00-\x1f\x7f\u200b-\u200f\u2028-\u202f\u2060-\u206f\ufeff]+",
    re.IGNORECASE,
)
_TRAILING = ".,!?;:'*"  # sentence punctuation after a link is not part of it
_CLOSING = {")": "(", "]": "[", "}": "{"}  # …nor a closing bracket it did not open


@dataclass(frozen=True, slots=True)
class Link:
    start: int
    end: int
    href: str  # always http:// or https://; a bare www.x becomes https://www.x


@dataclass(frozen=True, slots=True)
class Mention:
    start: int
    end: int
    user_id: str


def _trimmed(url: str) -> str:
    while url:
        last = url[-1]
        if last in _TRAILING or (last in _CLOSING and url.count(last) > url.count(_CLOSING[last])):
            url = url[:-1]
        else:
            break
    return url


def find_links(text: str) -> list[Link]:
    """The http(s) and www. links of `text`, in order."""
    if "://" not in text and "www." not in text.casefold():
        return []
    links = []
    for match in _LINK.finditer(text):
        url = _trimmed(match.group())
        www = url[:4].casefold() == "www."
        rest = url[4:] if www else url.split("://", 1)[1]
        if not rest or not (rest[0].isalnum() or (rest[0] == "[" and not www)):
            continue  # "https://" or "www." with no host after it
        links.append(Link(match.start(), match.start() + len(url), "https://" + url if www else url))
    return links


def find_mentions(
    text: str, members: Iterable[tuple[str, str]], masked: Iterable[tuple[int, int]] = ()
) -> list[Mention]:
    """Every `@Name` of `members` ((id, name) pairs) in `text`, in order: the whole name, any
    case, not inside a word. The longest names go first and what they matched is masked, so
    "@Ada Lovelace" does not also name a member called "Ada"; so are the `masked` spans
    (links: "https://x.com/@ada" names nobody)."""
    if "@" not in text:
        return []
    # Case-folded one character at a time, so an offset in the folded text maps back to one
    # in the text even where folding changes a length ("ß" folds to "ss").
    folds = [c.casefold() for c in text]
    offsets = [0]  # offsets[i]: where text[i] starts in the folded text
    for fold in folds:
        offsets.append(offsets[-1] + len(fold))
    origin = {at: index for index, at in enumerate(offsets)}
    chars = list("".join(folds))
    for start, end in masked:
        chars[offsets[start] : offsets[end]] = " " * (offsets[end] - offsets[start])
    folded = "".join(chars)
    people = [(user_id, name.strip().casefold()) for user_id, name in members]
    found = []
    for user_id, name in sorted(people, key=lambda p: len(p[1]), reverse=True):
        if not name:
            continue
        token = "@" + name
        start = folded.find(token)
        while start != -1:
            end = start + len(token)
            begin, finish = origin.get(start), origin.get(end)
            if (
                begin is not None
                and finish is not None
                and (begin == 0 or not text[begin - 1].isalnum())
                and (finish == len(text) or not text[finish].isalnum())
            ):
                found.append(Mention(begin, finish, user_id))
                folded = folded[:start] + " " * len(token) + folded[end:]
            start = folded.find(token, start + 1)
    return sorted(found, key=lambda m: m.start)
