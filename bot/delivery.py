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
from collections.abc import Callable
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
        self._sending: dict[int, asyncio.Task[None]] = {}  # chat id → its send under way
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
                for message in await claim:
                    self.postman.release(message)
            raise
        for message in claimed:
            if self._stopping or message.chat_id in self._sending:
                self.postman.release(message)  # stopping, or that chat began one meanwhile
                continue
            task = asyncio.create_task(self._send(bot, message), name=f"deliver {message.id}")
            self._sending[message.chat_id] = task
            task.add_done_callback(functools.partial(self._finished, message))

    def _finished(self, message: OutboxMessage, task: asyncio.Task[None]) -> None:
        self._sending.pop(message.chat_id, None)
        if task.cancelled():
            # Cancelled, perhaps before it began (then _send's own handler never ran): the
            # row goes back, due at the next start. A row already sent is left as it is.
            with contextlib.suppress(Exception):
                self.postman.release(message)
        self._wake.set()  # that chat's next row may be due

    async def _send(self, bot: ExtBot[Any], message: OutboxMessage) -> None:
        try:
            await self.postman.send(bot, message)
        except asyncio.CancelledError:
            raise  # stopping while this waited for its turn: _finished gives the row back
        except Exception:
            log.exception("outbox %s: the send failed unexpectedly", message.id)

    async def stop(self) -> None:
        """Stop at once, even while sends wait on a rate limit: they are given back."""
        self._stopping = True
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        self._wake.set()
        tasks = [*self._sending.values(), *([self._runner] if self._runner else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._sending.clear()
        self._runner = None

    async def settle(self, bot: ExtBot[Any]) -> None:
        """Send everything due now, one after another (tests, the terminal chat)."""
        await self.postman.flush(bot)
