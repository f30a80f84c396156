"""Issue 11 §3: the important fault scenarios of benchmarks/faults.py, smaller, as tests."""

from __future__ import annotations

from benchmarks import faults


async def test_kill_9_while_members_press_submit_every_member_gets_one_case_number() -> None:
    outcome = await faults.kill9("sqlite", 8, None)
    assert outcome.passed, outcome.figures


async def test_a_storm_of_429_and_5xx_loses_and_repeats_nothing() -> None:
    outcome = await faults.storm("sqlite", 6, None, seconds=20)
    assert outcome.passed, outcome.figures


async def test_after_the_bot_was_down_every_waiting_update_is_handled_once() -> None:
    outcome = await faults.down("sqlite", 6, None, seconds=6)
    assert outcome.passed, outcome.figures
