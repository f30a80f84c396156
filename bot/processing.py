"""Many members at once, each in order.

python-telegram-bot hands every update to this processor. Updates of different chats run
concurrently; the updates of one chat (a member's private chat, one staff group) wait for each
other and run in the order they arrived, so a member's answers never overtake each other.
The inbox (`claims`) takes an update when its turn comes and marks it handled after.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from typing import Any, Protocol

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Tasks waiting for their chat's turn are cheap: allow many, so that one member's burst never
# takes every place from the others.
MAX_CONCURRENT_UPDATES = 4096


def order_key(update: object) -> int | None:
    """Whose turn an update waits for: its chat, else its user (inline queries); None: none."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


class Claims(Protocol):
    """Who may handle an update (the inbox): take it when its turn comes, mark it after."""

    async def take(self, update: object) -> bool: ...

    async def finished(self, update: object) -> None: ...


class PerChatOrder(BaseUpdateProcessor):
    def __init__(
        self,
        *,
        claims: Claims | None = None,
        max_concurrent_updates: int = MAX_CONCURRENT_UPDATES,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self.claims = claims
        self._turns: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = order_key(update)
        if key is None:
            await self._handle(update, coroutine)
            return
        lock = self._turns.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                await self._handle(update, coroutine)
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key]
                self._turns.pop(key, None)

    async def _handle(self, update: object, coroutine: Awaitable[Any]) -> None:
        try:
            taken = self.claims is None or await self.claims.take(update)
        except BaseException:
            taken = False  # the database is away: the update stays stored for later
            raise
        finally:
            if not taken and isinstance(coroutine, Coroutine):
                coroutine.close()  # handled already, by another instance, or not now
        if not taken:
            return
        try:
            await coroutine
        finally:
            if self.claims is not None:
                await self.claims.finished(update)

    def waiting(self, key: int) -> int:
        """How many updates of this chat are under way or waiting (for tests and flood checks)."""
        return self._waiting.get(key, 0)
