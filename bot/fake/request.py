""":class:`FakeRequest`: python-telegram-bot's transport answered by a fake in-process."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import IO, Any
from urllib.parse import unquote, urlsplit

from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.fake.api import FakeTelegram
from bot.fake.protocol import JSON, FileTuple, SimulatedNetworkFailure
from bot.fake.state import PollTicket

API_PATH = re.compile(r"/bot([^/]+)/([^/]*)$")
FILE_PATH = re.compile(r"/file/bot([^/]+)/(.+)$")


def _read_content(content: bytes | IO[bytes]) -> bytes:
    return content if isinstance(content, bytes) else content.read()


class FakeRequest(BaseRequest):
    """A python-telegram-bot transport that answers from a :class:`FakeTelegram` in-process.

    Use one instance for ``request`` and another for ``get_updates_request``. getUpdates
    long-polls without blocking the event loop (it looks at the queue every
    ``poll_interval`` seconds) and can be cancelled at once.
    """

    def __init__(
        self,
        fake: FakeTelegram,
        *,
        read_timeout: float | None = 5.0,
        poll_interval: float = 0.01,
    ) -> None:
        self.fake = fake
        self._read_timeout = read_timeout
        self._poll_interval = poll_interval

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

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
        await asyncio.sleep(0)  # a real request always yields to the event loop
        path = unquote(urlsplit(url).path)
        file_match = FILE_PATH.search(path)
        if file_match:
            refusal = self.fake.check_token(file_match.group(1))
            if refusal is not None:
                return refusal[0], json.dumps(refusal[1]).encode()
            content = self.fake.download(file_match.group(2))
            if content is None:
                body = {"ok": False, "error_code": 404, "description": "Not Found: file not found"}
                return 404, json.dumps(body).encode()
            return 200, content
        api_match = API_PATH.search(path)
        if not api_match:
            body = {"ok": False, "error_code": 404, "description": "Not Found"}
            return 404, json.dumps(body).encode()
        refusal = self.fake.check_token(api_match.group(1))
        if refusal is not None:
            return refusal[0], json.dumps(refusal[1]).encode()
        params: dict[str, Any] = dict(request_data.json_parameters) if request_data else {}
        files: dict[str, FileTuple] = {}
        if request_data is not None and request_data.contains_files:
            for name, (file_name, data, mime) in request_data.multipart_data.items():
                files[name] = (file_name, _read_content(data), mime)
        try:
            outcome = self.fake._dispatch(api_match.group(2), params, files)
        except SimulatedNetworkFailure as exc:
            if exc.processed:
                raise TimedOut("Timed out (simulated: the call was carried out)") from exc
            raise NetworkError("httpx.ConnectError: simulated network failure") from exc
        if isinstance(outcome, PollTicket):
            outcome = await self._wait(outcome)
        status, payload = outcome
        return status, json.dumps(payload, ensure_ascii=False).encode("utf-8")

    async def _wait(self, ticket: PollTicket) -> tuple[int, JSON]:
        while True:
            answer = self.fake._poll_step(ticket)
            if answer is not None:
                return answer
            remaining = ticket.deadline - time.monotonic()
            await asyncio.sleep(max(0.0, min(self._poll_interval, remaining)))
