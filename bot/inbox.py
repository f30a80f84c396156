"""No acknowledged update is lost, and none is handled twice.

python-telegram-bot's updater confirms updates to Telegram (the next getUpdates offset) as
soon as it has put them on the application's queue, before they are handled; a webhook answers
200 once the update is on the queue. So the queue itself stores: `StoringQueue.put` writes the
update to the inbox table first, and only then is it queued, and only then acknowledged.

An update is claimed by this instance when its turn comes (bot.processing) and marked handled
when its handler has finished and its replies were sent or handed to the outbox. Marks that
fall due together are written together, in one statement. A polling instance fetches alone and
in order (Telegram answers one getUpdates at a time for a bot): an update it stores with no
earlier one of its chat unhandled is claimed by that store, without a second trip. After a crash
or a kill -9, what was stored and not handled is handled at start-up, in order; an update that
arrives again (Telegram's redelivery, or another instance's) is handled once.

Several instances on one database (webhooks behind a load balancer) share the inbox: an update
is handled by the instance that claims it, and one chat's updates are claimed in order
whichever instance received them (storage.inbox). An update whose chat has an earlier one
still under way elsewhere waits for it briefly, then goes back to the end of the queue.

The mark follows the replies rather than sharing the handler's transaction: a crash between
the two then means the update is handled again at start-up, which is safe (a form knows the
last update it took and asks its question again instead of taking the text twice, a repeated
提交 finds its case filed and answers with its number), while the other order would lose the
member's reply. When only the mark fails (the database went away meanwhile), this process
remembers the update as handled and records it once the database is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot, Update
from telegram._utils.types import ODVInput
from telegram.error import NetworkError
from telegram.request import BaseRequest, RequestData

from bot.processing import order_key
from storage import inbox
from storage.db import DatabaseThreads
from storage.models import InboxUpdate

log = logging.getLogger(__name__)
# Where the application keeps its inbox, and the notice for members while the database is away.
INBOX_KEY = "inbox"
BUSY_KEY = "busy_notice"


def default_instance_name(data_dir: str) -> str:
    """This machine and data folder: the same name after a restart, so that the updates this
    instance had taken when it died are its own again."""
    return f"{socket.gethostname()}:{os.path.abspath(data_dir)}"


class Inbox:
    # While an earlier update of the chat is handled by another instance: look again this
    # often, and this long before going back to the end of the queue (the earlier one's
    # instance may have died; its claim then runs out and the inbox job takes it over).
    WAIT_STEP = 0.02
    WAIT_LIMIT = 10.0
    # An update stored in its turn is taken without claiming it again within this time of its
    # store (well inside the hold the store gives it, storage.inbox.CLAIM); later, it is
    # claimed as any other.
    IN_TURN_FOR = 30.0

    def __init__(self, engine: Engine, instance: str, db: DatabaseThreads | None = None) -> None:
        self.engine = engine
        self.instance = instance
        # True when this instance alone fetches updates, in order (`union-bot run`: polling).
        self.fetches_alone = False
        # Stored by this instance in their turn (no earlier update of the chat unhandled), and
        # when their store began.
        self._in_turn: dict[int, float] = {}
        # Every read and write of the inbox runs in a database thread, off the event loop.
        self.db = db or DatabaseThreads(engine)
        self._queued: set[int] = set()  # stored and waiting on this instance's queue
        self._again: set[int] = set()  # failed on the database: not to be marked handled
        # Handled here, replies sent, but the database could not record it: marked when it is
        # back, never handled again by this process.
        self._unmarked: set[int] = set()
        # Marks to write in the next statement, and the future their finishers wait on.
        self._marks: list[int] = []
        self._marked: asyncio.Future[None] | None = None
        self._marking: asyncio.Task[None] | None = None
        # Stores under way, by update: a second delivery of one waits for the first.
        self._storing: dict[int, asyncio.Future[tuple[bool | None, InboxUpdate | None]]] = {}
        # Puts an update back at the end of the queue (set by the application).
        self.requeue: Callable[[Update], Awaitable[None]] | None = None

    async def keep(self, update: Update) -> bool:
        """Store an arriving update; whether this instance should queue it."""
        update_id = update.update_id
        if (storing := self._storing.get(update_id)) is not None:
            # The same update again while its store waits (Telegram gave up on the first
            # delivery): this one succeeds or fails with it, never acknowledged before it.
            await asyncio.shield(storing)
            return False
        if update_id in self._queued or update_id in self._unmarked:
            return False  # waiting here already, or handled here
        self._queued.add(update_id)
        payload, key = update.to_dict(), order_key(update)
        began = asyncio.get_running_loop().time()
        storing = asyncio.ensure_future(self.db.call(self._store, update_id, payload, key))
        self._storing[update_id] = storing
        try:
            fresh, known = await asyncio.shield(storing)
        except BaseException:
            self._queued.discard(update_id)
            raise
        finally:
            if storing.done():
                self._storing.pop(update_id, None)
            else:
                storing.add_done_callback(lambda _: self._storing.pop(update_id, None))
        if fresh is None and (known is None or known.handled_at is not None):
            self._queued.discard(update_id)
            return False  # handled already
        if fresh:
            self._in_turn[update_id] = began
        return True

    def _store(
        self, update_id: int, payload: dict[str, Any], key: int | None
    ) -> tuple[bool | None, InboxUpdate | None]:
        """(True: stored in its turn, False: stored, None: stored already; what is stored)."""
        if self.fetches_alone:
            fresh = inbox.store_in_turn(
                self.engine, update_id, payload, key, instance=self.instance
            )
        else:
            stored = inbox.store(self.engine, update_id, payload, key, instance=self.instance)
            fresh = False if stored else None
        if fresh is not None:
            return fresh, None
        return None, inbox.state(self.engine, update_id)

    def again_later(self, update: Update) -> None:
        """Its handling failed on the database: not marked handled; the inbox job (or the next
        start) handles it again once the database is back."""
        self._again.add(update.update_id)

    async def take(self, update: object) -> bool:
        """Claim it when its turn comes: False if it was handled, another instance has it, or
        it went back to the queue to wait for an earlier update of its chat."""
        if not isinstance(update, Update):
            return True
        loop = asyncio.get_running_loop()
        stored_at = self._in_turn.pop(update.update_id, None)
        if stored_at is not None and loop.time() - stored_at < self.IN_TURN_FOR:
            return True  # its store claimed it: nothing of its chat was waiting before it
        give_up = loop.time() + self.WAIT_LIMIT
        first = True
        while True:
            try:
                claim, blocker = await self.db.call(
                    self._claim, update.update_id, first or bool(self._unmarked)
                )
            except SQLAlchemyError:
                # The database is away: it stays stored; the inbox job takes it up again.
                self._queued.discard(update.update_id)
                log.warning("update %s waits for the database", update.update_id)
                return False
            if claim is inbox.Claim.TAKEN:
                return True
            if claim is inbox.Claim.GONE:
                self._queued.discard(update.update_id)
                log.info("update %s is handled elsewhere", update.update_id)
                return False
            if blocker in self._unmarked:
                # Handled here already: its mark was all that was missing.
                await self.mark_unmarked()
                if blocker not in self._unmarked:
                    continue
            if first and blocker in self._queued:
                break  # the earlier one waits on this queue, behind this one: let it go first
            first = False
            if loop.time() >= give_up:
                break
            await asyncio.sleep(self.WAIT_STEP)
        log.info("update %s goes after an earlier one of its chat", update.update_id)
        if self.requeue is not None:
            await self.requeue(update)
        else:
            self._queued.discard(update.update_id)  # the inbox job finds it again
        return False

    def _claim(self, update_id: int, with_blocker: bool) -> tuple[inbox.Claim, int | None]:
        claim = inbox.claim(self.engine, update_id, self.instance)
        if claim is inbox.Claim.WAIT and with_blocker:
            return claim, inbox.blocker(self.engine, update_id)
        return claim, None

    async def finished(self, update: object) -> None:
        if not isinstance(update, Update):
            return
        update_id = update.update_id
        try:
            if update_id in self._again:
                self._again.discard(update_id)  # to be taken up again later
                return
            try:
                await self._mark(update_id)
            except SQLAlchemyError:  # handled, but not marked: marked once the database is back
                self._unmarked.add(update_id)
                log.warning("update %s handled; the database could not record it", update_id)
        finally:
            # Only now: while its mark is written, the inbox job must not take it for one left
            # behind, nor a redelivery for a new one.
            self._queued.discard(update_id)

    async def _mark(self, update_id: int) -> None:
        """Record the update handled, together with those that finish while a mark is being
        written (one statement for all of them, instead of one each)."""
        self._marks.append(update_id)
        if self._marked is None:
            self._marked = asyncio.get_running_loop().create_future()
        marked = self._marked
        if self._marking is None or self._marking.done():
            self._marking = asyncio.ensure_future(self._write_marks())
        await asyncio.shield(marked)

    async def _write_marks(self) -> None:
        while self._marks:
            update_ids, marked = self._marks, self._marked
            self._marks, self._marked = [], None
            assert marked is not None
            try:
                await self.db.call(inbox.done, self.engine, *update_ids)
            except Exception as error:
                marked.set_exception(error)
                marked.exception()  # retrieved: each waiter sees it through its shield
            except BaseException:  # stopping: the marks not written are found at the next start
                marked.cancel()
                raise
            else:
                marked.set_result(None)

    async def mark_unmarked(self) -> None:
        """Record what was handled while the database could not take the mark."""
        for update_id in sorted(self._unmarked):
            try:
                await self.db.call(inbox.done, self.engine, update_id)
            except SQLAlchemyError:
                return  # still away: the next inbox run tries again
            self._unmarked.discard(update_id)

    def set_aside(self, update: Update) -> None:
        """Not handled by this run (it is stopping): the next start finds it stored."""
        self._queued.discard(update.update_id)
        self._in_turn.pop(update.update_id, None)

    async def left_behind(self, bot: Bot) -> list[Update]:
        """Stored, not handled, and not waiting here: after a crash, or another instance's."""
        await self.mark_unmarked()
        found = []
        for row in await self.db.call(inbox.unhandled, self.engine, self.instance):
            if row.update_id in self._queued or row.update_id in self._unmarked:
                continue
            self._queued.add(row.update_id)
            found.append(Update.de_json(row.payload, bot))
        return found


class DatabaseAway(NetworkError):
    """An update could not be stored: it is not acknowledged, and Telegram sends it again."""


class StoringQueue(asyncio.Queue[Any]):
    """The application's update queue: an update is stored before it is queued, and so before
    Telegram is told it arrived.

    When the database cannot take it, the update is not acknowledged (the error reaches the
    updater, or the webhook answers 500), so Telegram sends it again; `unstored` tells the
    member once a minute that the message will be answered shortly. So it does when storing
    takes longer than `notice_after` (a lock held, a slow server), while the store goes on.
    """

    def __init__(
        self,
        inbox_: Inbox,
        unstored: Callable[[Update], Awaitable[None]] | None = None,
        *,
        retry_pause: float = 1.0,
        notice_after: float = 3.0,
    ) -> None:
        super().__init__()
        self.inbox = inbox_
        self.unstored = unstored
        # The updates fetched with this one (polling): the updater puts them one at a time and
        # stops at the first that cannot be stored, so the members of the rest are told here.
        self.fetched: Callable[[], list[Update]] | None = None
        self._telling: set[asyncio.Task[None]] = set()  # notices under way
        self.retry_pause = retry_pause
        # A store still waiting this long (a lock held, a slow server): the member is told
        # their message will be answered, while it goes on waiting.
        self.notice_after = notice_after

    async def put(self, item: Any) -> None:
        if type(item) is object:
            # python-telegram-bot's stop signal (a bare object): what still waits here is
            # stored, and is handled at the next start; only updates under way finish now.
            self._set_aside_waiting()
        if isinstance(item, Update):
            try:
                kept = await self._keep(item)
            except SQLAlchemyError as error:
                log.warning("update %s not stored: the database is unavailable", item.update_id)
                self._tell_waiting(item)
                await asyncio.sleep(self.retry_pause)  # not a tight loop against Telegram
                # A TelegramError, so that python-telegram-bot's polling loop tries again
                # (with growing pauses) instead of ending; a webhook answers 500.
                raise DatabaseAway("the database is unavailable") from error
            if not kept:
                return
        await super().put(item)

    async def _keep(self, update: Update) -> bool:
        keeping = asyncio.ensure_future(self.inbox.keep(update))
        done, _ = await asyncio.wait({keeping}, timeout=self.notice_after)
        if not done:
            self._tell_waiting(update)
        return await keeping

    def _tell_waiting(self, update: Update) -> None:
        """Tell the members whose messages wait on this store: its own, and those fetched after
        it (they wait behind it, and are fetched again once the database is back). Sent in the
        background: the store goes on meanwhile."""
        if self.unstored is None:
            return
        waiting = [update]
        if self.fetched is not None:
            with contextlib.suppress(Exception):
                waiting += [u for u in self.fetched() if u.update_id > update.update_id]
        task = asyncio.ensure_future(self._tell(self.unstored, waiting))
        self._telling.add(task)
        task.add_done_callback(self._telling.discard)

    @staticmethod
    async def _tell(notify: Callable[[Update], Awaitable[None]], waiting: list[Update]) -> None:
        await asyncio.gather(*(notify(u) for u in waiting), return_exceptions=True)

    def _set_aside_waiting(self) -> None:
        while True:
            try:
                waiting = self.get_nowait()
            except asyncio.QueueEmpty:
                return
            self.task_done()
            if isinstance(waiting, Update):
                self.inbox.set_aside(waiting)

    async def put_stored(self, item: Any) -> None:
        """Queue an update that is in the inbox already (one left behind by a crash)."""
        await super().put(item)


class WatchedFetch(BaseRequest):
    """getUpdates through `inner`, keeping the last answer as it came: when one of its updates
    cannot be stored, `StoringQueue` tells the members of the updates after it too. Read only
    then; the answer is not parsed twice on the way."""

    def __init__(self, inner: BaseRequest) -> None:
        self.inner = inner
        self._last: bytes = b""

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        code, payload = await self.inner.do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        if url.endswith("/getUpdates"):
            self._last = payload
        return code, payload

    def batch(self, bot: Bot | None = None) -> list[Update]:
        """The updates of the last getUpdates answer."""
        if not self._last:
            return []
        result = json.loads(self._last).get("result")
        if not isinstance(result, list):
            return []
        return [Update.de_json(data, bot) for data in result]


class BusyNotice:
    """The one line a member gets while their message cannot be stored: at most once a minute
    per chat, sent directly (the outbox is in the database too)."""

    def __init__(self, bot: Bot, text: str, *, every: float = 60.0) -> None:
        self.bot = bot
        self.text = text
        self.every = every
        self._told: dict[int, float] = {}

    async def __call__(self, update: Update) -> None:
        chat = update.effective_chat
        if chat is None or chat.type != "private":
            return
        now = asyncio.get_running_loop().time()
        if now - self._told.get(chat.id, -self.every) < self.every:
            return
        self._told[chat.id] = now
        await self.bot.send_message(chat.id, self.text)
