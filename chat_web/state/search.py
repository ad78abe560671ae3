"""The sidebar's message search: a query, a page of results at a time, newest first.

What the tab holds stays bounded: the results shown (at most RESULTS_MAX), each a short
snippet around its match, and the cursor of the next page.
"""

from __future__ import annotations

from datetime import UTC, datetime

import reflex as rx

from chat_web import container
from chat_web.domain import ChatError, User
from chat_web.domain.models import IMAGE_PREVIEW, preview_of
from chat_web.services.chats import SearchResult
from chat_web.services.validation import SEARCH_QUERY_MAX, storable
from chat_web.state import rows as R
from chat_web.state.chat_list import ChatListState
from chat_web.state.rows import FoundRow
from chat_web.state.session import SessionState, error_toast

SEARCH_PAGE = 20
RESULTS_MAX = 200  # past this, "load more" stops: narrow the search instead


class MessageSearchState(SessionState):
    mode: str = "people"  # the sidebar's search box finds "people" or "messages"
    query: str = ""
    results: list[FoundRow] = []
    cursor: str = ""  # the next page; "" when there is none
    searched: bool = False  # a search has answered (so "nothing found" may show)
    searching: bool = False

    @rx.event
    async def set_mode(self, mode: str | list[str]):
        try:
            await self._require()
        except ChatError as exc:
            return error_toast(exc)
        self.mode = "messages" if mode == "messages" else "people"
        self._clear()

    def _clear(self) -> None:
        self.query, self.results, self.cursor = "", [], ""
        self.searched = self.searching = False

    @rx.event
    async def search(self, value: str):
        """The box changed (debounced in the browser): search from the newest again."""
        # The session first, and only a query the service would take is kept (at most
        # SEARCH_QUERY_MAX characters): a signed-out or hostile tab stores nothing.
        try:
            await self._require()
        except ChatError as exc:
            yield error_toast(exc)
            return
        query = value.strip() if isinstance(value, str) else ""
        if len(query) > SEARCH_QUERY_MAX or not storable(query):
            yield rx.toast.error(f"A search can have at most {SEARCH_QUERY_MAX} characters.", duration=6000)
            return
        self.query = query
        self.results, self.cursor, self.searched = [], "", False
        if not self.query:
            return
        yield await self._fetch()

    @rx.event
    async def load_more(self):
        if self.cursor and len(self.results) < RESULTS_MAX:
            yield await self._fetch()

    async def _fetch(self):
        self.searching = True
        try:
            me = await self._require()
            page = await container.current().chats.search_messages(
                me, self.query, SEARCH_PAGE, self.cursor or None
            )
        except ChatError as exc:
            self.searching = False
            return error_toast(exc)
        zone = R.zone((await self.get_state(ChatListState)).tz)  # times in the reader's zone
        now = datetime.now(UTC)
        known = {row.key for row in self.results}
        fresh = [self._row(r, me, zone, now) for r in page.results if r.message.id not in known]
        self.results = (self.results + fresh)[:RESULTS_MAX]
        self.cursor = page.next_cursor or ""
        self.searched, self.searching = True, False
        return None

    @staticmethod
    def _row(result: SearchResult, me: User, zone, now: datetime) -> FoundRow:
        message = result.message
        prefix = "You: " if message.sender_id == me.id else ""
        if message.kind == "image":
            prefix += IMAGE_PREVIEW + " "
        elif message.kind in ("file", "voice"):
            prefix += preview_of(message) + " "
        return FoundRow(
            key=message.id,
            chat_id=result.chat_id,
            seq=message.seq,
            title=result.chat_title,
            initial=R.initial_of(result.chat_title),
            when=R.list_time(message.created_at, now, zone),
            pieces=R.snippet(message.text, result.highlights, prefix),
        )
