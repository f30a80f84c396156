"""How long the event loop is held up: everything the bot does runs on one loop, so a slow
synchronous call (a database commit, a long computation) delays every member's reply.

A probe sleeps 50 ms again and again and records how late it wakes. Once a minute, if the loop
was held up noticeably, one log line gives the figures (the load benchmark reads them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

log = logging.getLogger(__name__)

PROBE = 0.05
REPORT_EVERY = 60.0
NOTICEABLE = 0.1  # seconds: below this nothing is logged


class LoopLag:
    def __init__(self, *, probe: float = PROBE, report_every: float = REPORT_EVERY) -> None:
        self.probe = probe
        self.report_every = report_every
        self.lags: list[float] = []  # since the last report
        self.worst = 0.0  # since the start
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="union-bot loop lag")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.report()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        reported = loop.time()
        while True:
            before = loop.time()
            await asyncio.sleep(self.probe)
            lag = max(0.0, loop.time() - before - self.probe)
            self.lags.append(lag)
            self.worst = max(self.worst, lag)
            if loop.time() - reported >= self.report_every:
                self.report()
                reported = loop.time()

    def report(self) -> None:
        if not self.lags:
            return
        ordered = sorted(self.lags)
        self.lags = []
        largest = ordered[-1]
        if largest < NOTICEABLE:
            return
        p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        level = logging.WARNING if largest >= 1.0 else logging.INFO
        log.log(
            level,
            "event loop held up: p50 %.0f ms, p99 %.0f ms, max %.0f ms over %d probes",
            ordered[len(ordered) // 2] * 1000,
            p99 * 1000,
            largest * 1000,
            len(ordered),
        )
