"""The delivery worker: sends the outbox in the background, off every member's update.

A handler writes what it owes staff (a card, a relay) to the outbox with its change and
returns; this worker sends it. Each chat has at most one send under way, in order, so a group
waiting out Telegram's 20-a-minute limit (bot.pacing) holds up only itself, and many chats are
served at once. It wakes when a transaction that queued messages has committed, in whichever
thread (storage.cases.on_outbox_commit), and every `poll_seconds` (rows written by another
process, retries coming due). An update that queued nothing costs it nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Sequence
from typing import Any

from telegram.ext import ExtBot

from bot.outbox import Postman
from storage.cases import on_outbox_commit
from storage.models import OutboxMessage

log = logging.getLogger(__name__)


class Delivery:
    def __init__(
        self, postman: Postman, *, poll_seconds: float = 1.0, max_in_flight: int = 64
    ) -> None:
        self.postman = postman
        self.poll_seconds = poll_seconds
        self.max_in_flight = max_in_flight
        self._wake = asyncio.Event()
        # chat id → its send under way, and the row it sends
        self._sending: dict[int, tuple[asyncio.Task[None], OutboxMessage]] = {}
        self._runner: asyncio.Task[None] | None = None
        self._stopping = False
        self._unlisten: Callable[[], None] | None = None

    def start(self, bot: ExtBot[Any]) -> None:
        if self._runner is None or self._runner.done():
            self._stopping = False
            self._runner = asyncio.create_task(self._run(bot), name="union-bot delivery")
        if self._unlisten is None:
            self._unlisten = on_outbox_commit(self._waker(asyncio.get_running_loop()))

    def _waker(self, loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
        def wake_from_any_thread() -> None:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(self._wake.set)

        return wake_from_any_thread

    def wake(self) -> None:
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._runner is not None and not self._runner.done()

    async def _run(self, bot: ExtBot[Any]) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self._start_sends(bot)
            except Exception:  # the database is away: try again at the next wake
                log.exception("the outbox could not be read")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def _start_sends(self, bot: ExtBot[Any]) -> None:
        room = self.max_in_flight - len(self._sending)
        if room <= 0:
            return
        # Read and leased in a database thread; the chats busy now are the ones left out.
        claim = asyncio.ensure_future(
            self.postman.call(self.postman.claim_due, busy=frozenset(self._sending), room=room)
        )
        try:
            claimed = await asyncio.shield(claim)
        except asyncio.CancelledError:
            # Stopping while the thread leases rows: it commits anyway, so give them back,
            # or they would wait out their lease after the next start.
            with contextlib.suppress(Exception):
                await self._give_back(await asyncio.shield(claim))
            raise
        unsent: list[OutboxMessage] = []
        for message in claimed:
            if self._stopping or message.chat_id in self._sending:
                unsent.append(message)  # stopping, or that chat began one meanwhile
                continue
            task = asyncio.create_task(self._send(bot, message), name=f"deliver {message.id}")
            self._sending[message.chat_id] = (task, message)
            task.add_done_callback(functools.partial(self._finished, message.chat_id))
        await self._give_back(unsent)

    def _finished(self, chat_id: int, _task: asyncio.Task[None]) -> None:
        self._sending.pop(chat_id, None)
        self._wake.set()  # that chat's next row may be due

    async def _send(self, bot: ExtBot[Any], message: OutboxMessage) -> None:
        try:
            await self.postman.send(bot, message)
        except Exception:
            log.exception("outbox %s: the send failed unexpectedly", message.id)

    async def _give_back(self, messages: Sequence[OutboxMessage]) -> None:
        """Rows leased and not sent, due again at once: in the database thread, in one go."""
        if not messages:
            return
        try:
            await self.postman.call(self.postman.release, messages)
        except Exception:  # the database is away: the leases run out on their own
            log.exception("outbox: %d leased rows could not be given back", len(messages))

    async def stop(self) -> None:
        """Stop without waiting for sends that wait on a rate limit: their rows are given
        back. It waits only for a lease being taken in the database thread at that moment."""
        self._stopping = True
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        self._wake.set()
        sending = list(self._sending.values())
        tasks = [task for task, _message in sending]
        if self._runner is not None:
            tasks.append(self._runner)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # A send cancelled, even before its first step, gives its row back for the next start.
        await self._give_back([message for task, message in sending if task.cancelled()])
        self._sending.clear()
        self._runner = None

    async def settle(self, bot: ExtBot[Any]) -> None:
        """Send everything due now, one after another (tests, the terminal chat)."""
        await self.postman.flush(bot)
