"""Telegram's flood limits, kept by the bot itself, with member replies first.

Every Bot API call that names a chat passes here (python-telegram-bot's rate limiter hook).
Three limits hold at once, as Telegram asks of a bot:
- overall: about 30 messages a second;
- a private chat: about one message a second (a short burst of a few is tolerated);
- a group: 20 messages a minute.
A call waits for its own chat's window first, so a full group delays only that group; then for
the overall window, where waiting calls go by priority (a member's reply before a staff card
before a reminder) and in order of arrival within a priority.

A 429 from Telegram pauses that chat (or, for a call without a chat, every call) for the time
it names, and is raised to the caller: the outbox retries its rows, and a member's direct reply
is retried briefly, then handed to the outbox (bot/outbox.py).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import heapq
import itertools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

# Priorities, lowest first: passed as rate_limit_args, or written on an outbox row.
MEMBER = 0  # a member's answer, direct or relayed from staff
STAFF = 1  # staff chats, staffers' private chats
BACKGROUND = 2  # digests, reminders

# The share of the overall window that staff and background calls leave to members' replies.
MEMBER_RESERVE = 0.2

JSONResult = Any  # what the Bot API answered: bool, a dict or a list of dicts


@dataclass(frozen=True, slots=True)
class Limits:
    overall_per_second: float = 30.0
    private_burst: int = 3  # messages in any `private_window` seconds, in one private chat
    private_window: float = 3.0
    group_per_minute: int = 20
    group_window: float = 60.0  # seconds: the "minute" (shorter in tests)

    @property
    def enabled(self) -> bool:
        return self.overall_per_second > 0


class _Window:
    """At most `count` events in any `seconds`: when the next one may happen.

    Telegram counts a message when it arrives, which is some time after the call was let go
    (the event loop, the connection, a slow answer). So a call counts from when it is let go
    until it has returned (`open`, however long that takes), and then for `seconds` from its
    return (`settle`): the window never lets through more than Telegram counts.
    """

    __slots__ = ("count", "open", "seconds", "times")

    def __init__(self, count: int, seconds: float) -> None:
        self.count = max(1, count)
        self.seconds = seconds + 0.02  # clocks a little apart
        self.times: list[float] = []  # when calls returned, ascending
        self.open = 0  # calls let go that have not returned

    def _prune(self, now: float) -> None:
        cut = bisect.bisect_right(self.times, now - self.seconds)
        if cut:
            del self.times[:cut]

    def wait(self, now: float, room: int | None = None) -> float:
        """Seconds until an event may happen while at most `room` (default: all) are used
        (0 when one may happen now; a call under way frees its place only once it returned:
        then at least a short while)."""
        room = self.count if room is None else max(1, min(room, self.count))
        self._prune(now)
        used = len(self.times) + self.open
        if used < room:
            return 0.0
        if len(self.times) <= used - room:
            return 0.05  # the places are held by calls under way: look again shortly
        return self.times[used - room] + self.seconds - now

    def take(self, now: float) -> float:
        self.open += 1
        return now

    def release(self) -> None:
        """A call taken and then given up before it went: its place is free again."""
        self.open = max(0, self.open - 1)

    def settle(self, taken: float, finished: float) -> None:
        """A call let go at `taken` has returned at `finished`: it counts from then."""
        self.open = max(0, self.open - 1)
        bisect.insort(self.times, finished)


class Pacer(BaseRateLimiter[int]):
    """python-telegram-bot's BaseRateLimiter with per-chat windows and priorities."""

    def __init__(self, limits: Limits | None = None, *, clock: Callable[[], float] | None = None):
        self.limits = limits or Limits()
        self._clock = clock
        self._chats: dict[int | str, _Window] = {}
        self._chat_locks: dict[int | str, asyncio.Lock] = {}
        self._paused_until: dict[int | str | None, float] = {}
        overall = self.limits.overall_per_second or 1.0  # 0: no limit (never consulted)
        # A window of one second holding `overall` calls; below one a second, one call in a
        # longer window.
        self._overall = _Window(max(1, round(overall)), 1.0 if overall >= 1 else 1 / overall)
        self._waiting: list[tuple[int, int]] = []
        self._tickets = itertools.count()
        self._turns: dict[tuple[int, int], asyncio.Event] = {}  # each waiting call's wake-up
        self._initialized = False

    def _now(self) -> float:
        return self._clock() if self._clock else asyncio.get_running_loop().time()

    async def initialize(self) -> None:
        self._initialized = True

    async def shutdown(self) -> None:
        self._waiting.clear()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONResult:
        chat = data.get("chat_id")
        if chat is None or not self.limits.enabled or endpoint in _FREE:
            await self._pause_over(None)
            return await callback(*args, **kwargs)
        priority = MEMBER if rate_limit_args is None else rate_limit_args
        window, in_chat = await self._chat_turn(chat)
        overall: float | None = None
        let_go = False
        try:
            overall = await self._overall_turn(priority)
            let_go = True
            return await callback(*args, **kwargs)
        except RetryAfter as error:
            seconds = _seconds(error.retry_after)
            self._paused_until[chat] = self._now() + seconds
            raise
        finally:
            if not let_go:  # given up while waiting (a timeout, a stop): it never went
                window.release()
            else:
                finished = self._now()
                window.settle(in_chat, finished)
                if overall is not None:
                    self._overall.settle(overall, finished)
                    self._wake_first()

    async def _pause_over(self, chat: int | str | None) -> None:
        for key in (None, chat) if chat is not None else (None,):
            until = self._paused_until.get(key, 0.0)
            if (wait := until - self._now()) > 0:
                await asyncio.sleep(wait)

    async def _chat_turn(self, chat: int | str) -> tuple[_Window, float]:
        """Wait for this chat's window; calls to one chat go one at a time, in order."""
        lock = self._chat_locks.setdefault(chat, asyncio.Lock())
        async with lock:
            await self._pause_over(chat)
            window = self._chats.get(chat)
            if window is None:
                window = self._chats[chat] = self._window_for(chat)
                if len(self._chats) > 4096:
                    self._forget_idle()
            while (wait := window.wait(self._now())) > 0:
                await asyncio.sleep(wait)
            return window, window.take(self._now())

    def _window_for(self, chat: int | str) -> _Window:
        if isinstance(chat, int) and chat > 0:
            return _Window(self.limits.private_burst, self.limits.private_window)
        return _Window(self.limits.group_per_minute, self.limits.group_window)

    def _forget_idle(self) -> None:
        now = self._now()
        for chat, window in list(self._chats.items()):
            lock = self._chat_locks.get(chat)
            idle = not window.times and not window.open
            if window.wait(now) == 0 and idle and not (lock and lock.locked()):
                self._chats.pop(chat, None)
                self._chat_locks.pop(chat, None)

    async def _overall_turn(self, priority: int) -> float | None:
        """Wait for a place in the overall window, behind every call of a higher priority; the
        time it was taken (None: no overall limit).

        Staff and background calls leave part of the window (MEMBER_RESERVE) to members, so a
        member's reply finds room at once even while cards and reminders are waiting.

        Only the first in line watches the window; the others sleep until they are first (one
        wake-up per place, however many wait). No lock is held while waiting: a caller
        cancelled at any point only takes its ticket out and wakes the new first. (An
        asyncio.Condition waited on with wait_for could be left held by a cancelled waiter on
        Python 3.11, stalling every send.)
        """
        if not self._initialized:  # used before initialize(): limits off
            return None
        ticket = (priority, next(self._tickets))
        room = self._overall.count
        if priority != MEMBER:
            room = max(1, int(room * (1 - MEMBER_RESERVE)))
        turn = self._turns[ticket] = asyncio.Event()
        heapq.heappush(self._waiting, ticket)
        try:
            while True:
                wait: float | None = None
                if self._waiting[0] == ticket:
                    wait = self._overall.wait(self._now(), room)
                    if wait == 0:
                        heapq.heappop(self._waiting)
                        del self._turns[ticket]
                        taken = self._overall.take(self._now())
                        self._wake_first()
                        return taken
                turn.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await turn.wait()
        except BaseException:
            self._turns.pop(ticket, None)
            if ticket in self._waiting:
                self._waiting.remove(ticket)
                heapq.heapify(self._waiting)
            self._wake_first()
            raise

    def _wake_first(self) -> None:
        """The window or the line changed: the first in line looks again."""
        if self._waiting:
            self._turns[self._waiting[0]].set()


# Calls that send nothing to a chat: no flood limit applies.
_FREE = frozenset({"getChat", "getChatMember", "getFile", "answerCallbackQuery", "getMe"})


def _seconds(value: float | Any) -> float:
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)
