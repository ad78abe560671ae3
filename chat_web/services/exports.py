"""Download my data: a zip of my profile, my chats with their messages, and the images, files and
voice messages I sent.

Built in the background by the process that was asked (`start` answers at once with the job),
streamed into the zip a page of messages or a piece of an image at a time, so memory holds a
page however much there is. The job's record says how far it is; when it is ready its download
works for the owner only, until it expires (EXPORT_TTL_HOURS); expired ones are deleted.

The zip (README.txt in it says the same to the person):
    README.txt                       what is where
    profile.json                     me: id, email, name, when I joined
    chats.json                       my chats: kind, title, the members (id and name), my unread
    chats/<chat id>/messages.jsonl   every message of the chat, oldest first, as the API gives it
                                     (seen, the reply's quote), except that an image, file or
                                     voice message says its `path` in the zip (None: not in it)
    images/<public id>.<ext>         the images I sent (full size)
    files/<public id>/<name>         the files and voice recordings I sent, under their names

Each page of messages is read with what makes it faithful, and nothing more: the members' read
cursors once a chat (seen: at or below the lowest), and one read a page for the messages its
replies answer on earlier pages.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

from chat_web.domain import Attachment, ChatError, Conflict, Gone, Image, NotFound, User
from chat_web.domain.exports import ExportJob, exported_message, file_entry, image_entry, image_extension_of
from chat_web.domain.models import DELETED_ACCOUNT
from chat_web.domain.reading import read_floor
from chat_web.domain.wire import iso
from chat_web.ports import (
    ArchiveEntries,
    ChatRepo,
    Clock,
    ExportArchives,
    FileStore,
    MediaStore,
    MessageRepo,
    UserRepo,
)
from chat_web.services.limits import Check, Limit, LimitGate
from chat_web.services.my_chats import every_chat_of
from chat_web.services.quotes import quoted

log = logging.getLogger(__name__)

PAGE = 500  # messages read (and held) at a time
NO_SUCH_EXPORT = "No such export of yours."
EXPIRED = "This download has expired; ask for a new one."
NOT_READY = "This export is not ready yet; its status says when it is."
FAILED = "Your data could not be put together; try again in a moment."
EXPORTS_AN_HOUR = Limit(5, timedelta(hours=1))  # each reads all my chats: CPU and disk for nothing
_TOO_MANY_EXPORTS = "Your data was put together several times this hour; try again in {seconds} s."
README = """Your data from the chat app, as it was when you asked for it.

profile.json
    You: id, email address, name, when you joined.
chats.json
    Your chats: kind (direct or group), title, members (id and name), how many messages,
    your unread count, whether you muted it, and the file of its messages.
chats/<chat id>/messages.jsonl
    Every message of the chat, oldest first, one JSON object a line (a deleted one as a
    tombstone). "seen": every other member has read it. "replyTo": what a reply quotes of
    the message it answers (its seq, sender and first line).
    An image, file or voice message has a "path": where it is in this zip. It is null for
    ones other people sent: those are theirs and not in your download. "originalUrl" is
    its address in the app (it works only while you are signed in and the message exists).
images/<id>.<ext>
    The images you sent, full size.
files/<id>/<name>
    The files and voice messages you sent, under their names.
"""


def _text_bytes(text: str) -> AsyncIterator[bytes]:
    async def one() -> AsyncIterator[bytes]:
        yield text.encode()

    return one()


def _json_bytes(value: object) -> AsyncIterator[bytes]:
    return _text_bytes(json.dumps(value, ensure_ascii=False, indent=2))


class ExportService:
    def __init__(
        self,
        users: UserRepo,
        chats: ChatRepo,
        messages: MessageRepo,
        media: MediaStore,
        archives: ExportArchives,
        clock: Clock,
        ttl: timedelta = timedelta(hours=24),
        gate: LimitGate | None = None,
        files: FileStore | None = None,
    ):
        self._users, self._chats, self._messages = users, chats, messages
        self._media = media
        self._files = files  # files and voice recordings (the local store); None: the media store
        self._archives = archives
        self._clock = clock
        self._ttl = ttl
        self._gate = gate
        self._running: dict[str, asyncio.Task] = {}  # job id -> its task (in this process)

    async def start(self, me: User) -> ExportJob:
        """A new export of my data, or the one of mine still being built. A new one replaces
        my earlier ones (a person's exports take one zip of disk, not one per click)."""
        await self._sweep(me.id)
        earlier = await self._archives.jobs_of(me.id)
        for job in earlier:
            if job.status == "running" and job.id in self._running:
                return job
        if self._gate is not None:
            await self._gate.check_all(Check(f"exports:{me.id}", EXPORTS_AN_HOUR, _TOO_MANY_EXPORTS))
        for job in earlier:
            await self._archives.delete(job.id)
        now = self._clock.now()
        job = ExportJob(secrets.token_urlsafe(24), me.id, "running", 0.0, now, now + self._ttl)
        await self._archives.save_job(job)
        task = asyncio.create_task(self._build(job, me), name=f"export-{job.id}")
        self._running[job.id] = task
        task.add_done_callback(lambda _: self._running.pop(job.id, None))
        return job

    async def latest(self, me: User) -> ExportJob | None:
        """My most recent export that has not expired (what the profile page shows)."""
        await self._sweep(me.id)
        jobs = sorted(await self._archives.jobs_of(me.id), key=lambda job: job.created_at)
        return await self.status(me, jobs[-1].id) if jobs else None

    async def status(self, me: User, job_id: object) -> ExportJob:
        job = await self._archives.job(job_id) if isinstance(job_id, str) else None
        if job is None or job.user_id != me.id:
            raise NotFound(NO_SUCH_EXPORT)  # someone else's looks like one that does not exist
        if job.status == "running" and job.id not in self._running and self._stalled(job):
            # The process building it stopped (a restart): say so rather than run forever.
            job = replace(job, status="failed", problem=FAILED)
        return job

    async def download(self, me: User, job_id: object) -> tuple[ExportJob, str]:
        """The ready job and its zip's path; Gone once it expired."""
        job = await self.status(me, job_id)
        if job.expires_at <= self._clock.now():
            await self._archives.delete(job.id)
            raise Gone(EXPIRED)
        path = await self._archives.file(job.id) if job.status == "ready" else None
        if path is None:
            if job.status == "running":
                raise Conflict(NOT_READY)  # it exists: not a 404
            raise NotFound(NO_SUCH_EXPORT)
        return job, path

    async def forget_user(self, user_id: str) -> None:
        """Every export of this user, finished or not (their account is being deleted)."""
        for job in await self._archives.jobs_of(user_id):
            task = self._running.get(job.id)
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            await self._archives.delete(job.id)

    async def close(self) -> None:
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _stalled(self, job: ExportJob) -> bool:
        return self._clock.now() - job.created_at > timedelta(minutes=30)

    async def _sweep(self, user_id: str) -> None:
        now = self._clock.now()
        for job in await self._archives.jobs_of(user_id):
            if job.expires_at <= now:
                await self._archives.delete(job.id)

    async def _build(self, job: ExportJob, me: User) -> None:
        progress = _Progress(self._archives, job)
        try:
            size = await self._archives.write(job.id, self._entries(me, progress))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure: the job says so, the log says why
            detail = exc.message if isinstance(exc, ChatError) else repr(exc)
            log.warning("export %s failed: %s", job.id, detail)
            await self._archives.save_job(replace(progress.job, status="failed", problem=FAILED))
            return
        await self._archives.save_job(replace(progress.job, status="ready", progress=1.0, size=size))

    async def _entries(self, me: User, progress: _Progress) -> ArchiveEntries:
        chats = [view async for view in every_chat_of(self._chats, me.id)]
        people = {u.id: u for u in await self._users.get_many([m for v in chats for m in v.chat.member_ids])}
        profile = {"id": me.id, "email": me.email, "name": me.name, "createdAt": iso(me.created_at)}
        yield "README.txt", _text_bytes(README)
        yield "profile.json", _json_bytes(profile)
        yield "chats.json", _json_bytes([_chat_json(view, people, me.id) for view in chats])
        progress.expect(sum(view.chat.last_seq for view in chats))
        mine: dict[str, Image | Attachment] = {}  # path in the zip -> what goes there
        for view in chats:
            yield (
                f"chats/{view.chat.id}/messages.jsonl",
                self._messages_of(view.chat.id, me.id, mine, progress),
            )
        # The writer reads each entry whole before asking for the next: `mine` is complete here.
        progress.expect_images(len(mine))
        for path, item in mine.items():
            if isinstance(item, Attachment):
                store = self._files or self._media
                yield path, store.chunks(item)
            else:
                yield path, self._media.chunks(item)
            await progress.image_done()

    async def _messages_of(
        self, chat_id: str, user_id: str, mine: dict[str, Image | Attachment], progress: _Progress
    ) -> AsyncIterator[bytes]:
        # Seen as the history gives it: every member's cursor passed it (read once a chat).
        floor = read_floor(await self._chats.members(chat_id))
        after = 0
        while True:
            page = await self._messages.page_after(chat_id, after, PAGE)
            if not page:
                return
            lines = []
            for message in await quoted(self._messages, chat_id, page):
                path = None
                if message.sender_id == user_id and not message.deleted:
                    stored = message.image or message.attachment
                    path = await self._entry_of(stored) if stored is not None else None
                    if path is not None:
                        mine[path] = stored
                line = exported_message(message, message.seq <= floor, path)
                lines.append(json.dumps(line, ensure_ascii=False))
            yield ("\n".join(lines) + "\n").encode()
            await progress.messages_done(len(page))
            after = page[-1].seq

    async def _entry_of(self, stored: Image | Attachment) -> str:
        if isinstance(stored, Attachment):
            return file_entry(stored)
        record = await self._media.record(stored.public_id)
        return image_entry(stored, image_extension_of(record.content_type if record else None, stored.url))


def _chat_json(view, people: dict[str, User], me: str) -> dict:
    chat = view.chat
    return {
        "id": chat.id,
        "kind": chat.kind,
        "title": chat.title,
        "members": [
            {"id": member, "name": people[member].name if member in people else DELETED_ACCOUNT}
            for member in chat.member_ids
        ],
        "createdAt": iso(chat.created_at),
        "messages": chat.last_seq,
        "unread": view.unread,
        "muted": view.me.muted,
        "file": f"chats/{chat.id}/messages.jsonl",
    }


class _Progress:
    """How far the job is: messages count for 90%, images for the rest. Saved at most every
    half a second (each save is a small file write)."""

    def __init__(self, archives: ExportArchives, job: ExportJob):
        self._archives = archives
        self.job = job
        self._messages = self._images = 0
        self._done_messages = self._done_images = 0
        self._saved_at = 0.0

    def expect(self, messages: int) -> None:
        self._messages = messages

    def expect_images(self, images: int) -> None:
        self._images = images

    async def messages_done(self, count: int) -> None:
        self._done_messages += count
        await self._save()

    async def image_done(self) -> None:
        self._done_images += 1
        await self._save()

    async def _save(self) -> None:
        part = 0.9 * min(1.0, self._done_messages / self._messages) if self._messages else 0.9
        if self._images:
            part += 0.1 * min(1.0, self._done_images / self._images)
        now = asyncio.get_running_loop().time()
        if now - self._saved_at < 0.5:
            return
        self._saved_at = now
        self.job = replace(self.job, progress=round(min(part, 0.99), 3))
        await self._archives.save_job(self.job)
