"""Telegram's flood limits kept by the bot: per-chat windows, one overall window shared by
priority, 429 pauses, and a stop that does not wait for any of it."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.pacing import BACKGROUND, MEMBER, STAFF, Limits, Pacer

GROUP = -100123
OTHER_GROUP = -100456


async def _pacer(limits: Limits) -> Pacer:
    pacer = Pacer(limits)
    await pacer.initialize()
    return pacer


async def _call(
    pacer: Pacer, chat: int, log: list[tuple[int, float]], priority: int = MEMBER
) -> None:
    async def callback() -> bool:
        log.append((chat, time.monotonic()))
        return True

    await pacer.process_request(callback, (), {}, "sendMessage", {"chat_id": chat}, priority)


async def test_a_full_group_delays_only_itself() -> None:
    pacer = await _pacer(Limits(overall_per_second=1000, group_per_minute=2, group_window=0.5))
    log: list[tuple[int, float]] = []
    start = time.monotonic()
    busy = [asyncio.create_task(_call(pacer, GROUP, log, STAFF)) for _ in range(5)]
    await asyncio.sleep(0.01)
    # Members and another group go at once while the first group waits out its window.
    await asyncio.gather(*(_call(pacer, 700000 + n, log) for n in range(5)))
    await _call(pacer, OTHER_GROUP, log, STAFF)
    assert time.monotonic() - start < 0.2
    await asyncio.gather(*busy)
    group_times = [at - start for chat, at in log if chat == GROUP]
    # Two a window: 0, 0, then 0.5, 0.5, then 1.0.
    assert group_times[2] >= 0.45 and group_times[4] >= 0.95


async def test_a_private_chat_gets_a_short_burst_then_one_at_a_time() -> None:
    pacer = await _pacer(Limits(overall_per_second=1000, private_burst=2, private_window=0.3))
    log: list[tuple[int, float]] = []
    start = time.monotonic()
    await asyncio.gather(*(_call(pacer, 700001, log) for _ in range(4)))
    times = [at - start for _, at in log]
    assert times[1] < 0.1 and times[2] >= 0.25 and times[3] >= 0.25


async def test_the_overall_window_serves_members_first() -> None:
    pacer = await _pacer(Limits(overall_per_second=2, private_burst=100))
    log: list[tuple[int, float]] = []
    # Fill this second's window, then queue background, staff and member calls in that order.
    await asyncio.gather(_call(pacer, 1, log), _call(pacer, 2, log))
    waiting = [asyncio.create_task(_call(pacer, 10 + n, log, BACKGROUND)) for n in range(2)] + [
        asyncio.create_task(_call(pacer, 20 + n, log, STAFF)) for n in range(2)
    ]
    await asyncio.sleep(0.05)
    waiting += [asyncio.create_task(_call(pacer, 30 + n, log, MEMBER)) for n in range(2)]
    await asyncio.gather(*waiting)
    order = [chat for chat, _ in log[2:]]
    assert order == [30, 31, 20, 21, 10, 11]


async def test_a_429_pauses_that_chat_and_reaches_the_caller() -> None:
    pacer = await _pacer(Limits())
    calls = 0

    async def refused() -> Any:
        nonlocal calls
        calls += 1
        raise RetryAfter(1)

    with pytest.raises(RetryAfter):
        await pacer.process_request(refused, (), {}, "sendMessage", {"chat_id": GROUP}, STAFF)
    log: list[tuple[int, float]] = []
    start = time.monotonic()
    await _call(pacer, OTHER_GROUP, log, STAFF)  # another chat is not paused
    assert time.monotonic() - start < 0.2
    await _call(pacer, GROUP, log, STAFF)
    assert time.monotonic() - start >= 0.9 and calls == 1


async def test_calls_without_a_chat_and_a_disabled_pacer_do_not_wait() -> None:
    pacer = await _pacer(Limits(overall_per_second=0))
    log: list[tuple[int, float]] = []
    start = time.monotonic()
    await asyncio.gather(*(_call(pacer, GROUP, log) for _ in range(50)))
    assert time.monotonic() - start < 0.2 and len(log) == 50


async def test_a_cancelled_wait_leaves_no_trace() -> None:
    pacer = await _pacer(Limits(overall_per_second=1, private_burst=100))
    log: list[tuple[int, float]] = []
    await _call(pacer, 1, log)
    stuck = asyncio.create_task(_call(pacer, 2, log, STAFF))
    await asyncio.sleep(0.05)
    stuck.cancel()
    await asyncio.gather(stuck, return_exceptions=True)
    started = time.monotonic()
    await _call(pacer, 3, log)  # not queued behind the cancelled call
    assert [chat for chat, _ in log] == [1, 3]
    assert time.monotonic() - started < 1.1


async def test_sends_cancelled_while_waiting_never_stall_the_others() -> None:
    """Sends given up while they wait for the overall window (a timeout around them, a stop)
    take only themselves out. With an asyncio.Condition waited on under wait_for, a waiter
    cancelled at the wrong moment left the condition's lock held and every later send stalled
    (seen at 300 members); this storm of cancellations reproduced it."""
    pacer = await _pacer(Limits(overall_per_second=200))
    chance = random.Random(1)
    tasks: list[asyncio.Task[None]] = []
    log: list[tuple[int, float]] = []
    began = time.monotonic()
    try:
        while time.monotonic() - began < 1.5:
            for _ in range(20):
                chat = 700000 + chance.randrange(10**6)
                priority = chance.choice([MEMBER, STAFF, BACKGROUND])
                tasks.append(asyncio.create_task(_call(pacer, chat, log, priority)))
            for task in chance.sample(tasks[-200:], 8):
                task.cancel()
            await asyncio.sleep(chance.uniform(0, 0.01))
        await asyncio.wait_for(_call(pacer, 1, log), 20)  # still served
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert any(chat == 1 for chat, _ in log)


async def test_staff_traffic_leaves_room_in_the_overall_window_for_members() -> None:
    pacer = await _pacer(Limits(overall_per_second=10))
    log: list[tuple[int, float]] = []
    start = time.monotonic()
    staff = [asyncio.create_task(_call(pacer, -100900 - n, log, STAFF)) for n in range(9)]
    await asyncio.sleep(0.1)
    await _call(pacer, 700500, log)  # a member's reply, while the ninth card waits
    member_at = next(at for chat, at in log if chat == 700500) - start
    await asyncio.gather(*staff)
    staff_times = sorted(at - start for chat, at in log if chat < 0)
    assert member_at < 0.2
    assert staff_times[7] < 0.1  # eight of ten places for staff
    assert staff_times[8] >= 0.95  # the ninth waits for the window to move on


async def test_a_send_given_up_while_waiting_frees_its_private_chats_place() -> None:
    """A reply given up while it waited for the overall window (a timeout around it) never
    went: the member's chat keeps its whole burst for the next ones."""
    pacer = await _pacer(Limits(overall_per_second=1, private_burst=2, private_window=0.2))
    log: list[tuple[int, float]] = []
    await _call(pacer, 700600, log, STAFF)  # the overall window is full for a second
    for _ in range(3):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_call(pacer, 700601, log), 0.05)
    await asyncio.sleep(1.1)
    start = time.monotonic()
    await asyncio.wait_for(_call(pacer, 700601, log), 1.0)
    assert time.monotonic() - start < 0.2
