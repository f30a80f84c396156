"""Telegram's side of a webhook: the updates users make are POSTed to the bot.

While a webhook is set, the fake keeps its updates for the pusher instead of getUpdates. The
pusher POSTs each one as Telegram's Bot API server does (JSON, with the
X-Telegram-Bot-Api-Secret-Token header): several at a time (max_connections), but one chat's
updates one after the other, the next only once the previous was answered with a 2xx (the
server keeps a queue per chat). The targets take turns, as a reverse proxy balancing several
instances would. An update that does not get a 2xx answer is sent again, before its chat's next.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from bot.fake.protocol import JSON
from bot.fake.simulation import Simulation

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class Pushed:
    """What the pusher saw: the answer statuses, and where each update went."""

    statuses: dict[int, int] = field(default_factory=dict)
    targets: dict[int, str] = field(default_factory=dict)  # update_id → the last target tried
    retries: int = 0


class WebhookPusher:
    def __init__(
        self,
        fake: Simulation,
        targets: Sequence[str],
        *,
        secret: str | None = None,
        connections: int = 8,
        retry_pause: float = 0.2,
    ) -> None:
        self.fake = fake
        self.targets = list(targets)
        self.secret = secret
        self.connections = connections
        self.retry_pause = retry_pause
        self.pushed = Pushed()
        self._turn = itertools.cycle(range(len(self.targets)))
        self._tasks: list[asyncio.Task[None]] = []
        self._client: httpx.AsyncClient | None = None
        self._in_flight = 0
        self._waiting: list[JSON] = []  # taken from the fake, not yet sent
        self._busy_chats: set[int] = set()  # a chat with an update under way waits

    async def __aenter__(self) -> WebhookPusher:
        self._client = httpx.AsyncClient(timeout=30.0)
        self._tasks = [asyncio.create_task(self._work()) for _ in range(self.connections)]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.aclose()

    async def _work(self) -> None:
        while True:
            update = self._next()
            if update is None:
                await asyncio.sleep(0.01)
                continue
            chat = _chat_of(update)
            self._in_flight += 1
            try:
                await self.deliver(update)
            finally:
                self._in_flight -= 1
                self._busy_chats.discard(chat)

    def _next(self) -> JSON | None:
        """The oldest waiting update whose chat has none under way (its chat is then busy)."""
        while (update := self.fake.take_webhook_update()) is not None:
            self._waiting.append(update)
        for index, update in enumerate(self._waiting):
            chat = _chat_of(update)
            if chat not in self._busy_chats:
                self._busy_chats.add(chat)
                return self._waiting.pop(index)
        return None

    async def deliver(self, update: JSON) -> None:
        """POST one update until a target takes it (2xx)."""
        assert self._client is not None
        headers = {"Content-Type": "application/json"}
        if self.secret is not None:
            headers[SECRET_HEADER] = self.secret
        update_id = int(update["update_id"])
        while True:
            target = self.targets[next(self._turn)]
            self.pushed.targets[update_id] = target
            try:
                answer = await self._client.post(target, json=update, headers=headers)
                status = answer.status_code
            except httpx.HTTPError:
                status = 0  # refused or timed out: Telegram tries again
            self.pushed.statuses[update_id] = status
            if 200 <= status < 300:
                return
            self.pushed.retries += 1
            await asyncio.sleep(self.retry_pause)

    @property
    def idle(self) -> bool:
        """Nothing waits to be pushed, and nothing is under way."""
        return not self._in_flight and not self._waiting and not self.fake.webhook_backlog()


def _chat_of(update: JSON) -> int:
    """The queue an update waits in: its chat (a button press: the message's chat), else its
    sender, else its own."""
    for payload in update.values():
        if not isinstance(payload, dict):
            continue
        chat = payload.get("chat") or (payload.get("message") or {}).get("chat")
        if isinstance(chat, dict) and "id" in chat:
            return int(chat["id"])
        sender = payload.get("from")
        if isinstance(sender, dict) and "id" in sender:
            return int(sender["id"])
    return -int(update["update_id"])
