"""The event loop's hold-ups are measured and reported (issue 11 §1: never block the loop)."""

from __future__ import annotations

import asyncio
import logging
import re
import time

import pytest

from bot.looplag import LoopLag


async def test_a_blocking_call_on_the_loop_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    lag = LoopLag(probe=0.01, report_every=3600)
    lag.start()
    await asyncio.sleep(0.05)
    time.sleep(0.3)  # a synchronous call holding the loop
    await asyncio.sleep(0.05)
    with caplog.at_level(logging.INFO, logger="bot.looplag"):
        await lag.stop()
    assert lag.worst >= 0.25
    # The hold-up counts from the probe due next, so it reads a little under 300 ms.
    reported = re.search(r"event loop held up: .* max (\d+) ms", caplog.text)
    assert reported is not None and int(reported.group(1)) >= 250


async def test_a_quiet_loop_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    lag = LoopLag(probe=0.01, report_every=3600)
    lag.start()
    await asyncio.sleep(0.1)
    with caplog.at_level(logging.INFO, logger="bot.looplag"):
        await lag.stop()
    assert lag.worst < 0.1 and caplog.text == ""
