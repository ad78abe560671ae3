"""Finding people: the sidebar's search (opens a direct chat) and the "new group" dialog."""

from __future__ import annotations

import reflex as rx

from chat_web import container
from chat_web.domain import ChatError, User
from chat_web.services.validation import TITLE_MAX, clean_query
from chat_web.state import rows as R
from chat_web.state.rows import Person
from chat_web.state.session import SessionState, error_toast

PEOPLE_MAX = 8


async def found_people(me: User, query: str, limit: int = PEOPLE_MAX) -> list[Person]:
    """The people a search finds for `me`, as the page lists them."""
    found = await container.current().chats.search_users(me, query, limit)
    return [Person(id=u.id, name=u.name, initial=R.initial_of(u.name)) for u in found]


class PeopleState(SessionState):
    query: str = ""
    people: list[Person] = []

    group_open: bool = False
    group_title: str = ""
    group_found: list[Person] = []
    group_picked: list[Person] = []
    group_saving: bool = False

    async def _find(self, query: str, me: User | None = None) -> list[Person]:
        return await found_people(me or await self._require(), query)

    @rx.event
    async def search_people(self, value: str):
        # The session first, and only a query the service would take is kept (at most
        # QUERY_MAX characters): a signed-out or hostile tab stores nothing.
        try:
            me = await self._require()
            query = clean_query(value)
        except ChatError as exc:
            return error_toast(exc)
        self.query = query
        if not query:
            self.people = []
            return
        try:
            self.people = await self._find(query, me)
        except ChatError as exc:
            return error_toast(exc)

    @rx.event
    async def start_direct(self, user_id: str):
        try:
            chat = await container.current().chats.open_direct(await self._require(), user_id)
        except ChatError as exc:
            return error_toast(exc)
        self.query, self.people = "", []
        return rx.redirect(f"/chat/{chat.id}")

    @rx.event
    async def set_group_open(self, is_open: bool):
        try:
            await self._require()
        except ChatError as exc:
            return error_toast(exc)
        self._set_group_open(is_open)

    def _set_group_open(self, is_open: bool) -> None:
        self.group_open = bool(is_open)
        if not self.group_open:
            self.group_title, self.group_found, self.group_picked = "", [], []

    @rx.event
    async def set_group_title(self, value: str):
        try:
            await self._require()
        except ChatError as exc:
            return error_toast(exc)
        # The box allows TITLE_MAX characters; create_group checks the title itself.
        self.group_title = value[:TITLE_MAX] if isinstance(value, str) else ""

    @rx.event
    async def group_search(self, value: str):
        try:
            query = clean_query(value)
        except ChatError as exc:
            return error_toast(exc)
        if not query:
            self.group_found = []
            return
        try:
            found = await self._find(query)
        except ChatError as exc:
            return error_toast(exc)
        picked = {p.id for p in self.group_picked}
        self.group_found = [p for p in found if p.id not in picked]

    @rx.event
    def group_pick(self, user_id: str):
        person = next((p for p in self.group_found if p.id == user_id), None)
        if person is not None:
            self.group_picked = self.group_picked + [person]
            self.group_found = [p for p in self.group_found if p.id != user_id]

    @rx.event
    def group_unpick(self, user_id: str):
        self.group_picked = [p for p in self.group_picked if p.id != user_id]

    @rx.event
    async def create_group(self):
        self.group_saving = True
        yield
        try:
            chat = await container.current().chats.create_group(
                await self._require(), self.group_title, [p.id for p in self.group_picked]
            )
        except ChatError as exc:
            self.group_saving = False
            yield error_toast(exc)
            return
        self.group_saving = False
        self._set_group_open(False)
        yield rx.redirect(f"/chat/{chat.id}")
