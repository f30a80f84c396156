"""Issue 12 §3: the questions the bot could not settle (misses) keep no number that could be a
phone or an ID, a question handed to staff is not kept among them, and they expire."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.app import sweep_drafts
from bot.services import SERVICES_KEY
from storage.cases import record_miss, scrub_numbers
from storage.models import Miss, MissReason, utcnow
from tests.factories import make_id_number
from tests.handlers.conftest import RIGHTS, Harness


@pytest.mark.parametrize(
    "typed",
    [
        "13900001234",
        "139 0000 1234",
        "139-0000-1234",
        "１３９００００１２３４",
        make_id_number(),
        make_id_number()[:-1] + "X",
        "1201 0219 8506 1512 3X",
        "022-2431 2556",
    ],
)
def test_numbers_in_any_grouping_are_scrubbed(typed: str) -> None:
    scrubbed = scrub_numbers(f"我的号码是{typed}，怎么办卡")
    assert not any(ch.isdigit() for ch in scrubbed), scrubbed
    assert scrubbed.startswith("我的号码是") and scrubbed.endswith("，怎么办卡")


def test_short_numbers_stay() -> None:
    assert scrub_numbers("单位3个月没发工资 第2车间") == "单位3个月没发工资 第2车间"


def _misses(harness: Harness) -> list[Miss]:
    with Session(harness.engine) as session:
        return list(session.exec(select(Miss)))


async def test_a_question_handed_to_staff_is_not_kept_among_the_misses(
    harness: Harness,
) -> None:
    await harness.say("我老公查出癌症，家里困难，电话 139 0000 1234")
    await harness.press("转人工")
    assert "癌症" in harness.last(RIGHTS)["text"]  # staff have it, on the case
    assert not [m for m in _misses(harness) if "癌症" in m.question]
    assert all("1234" not in m.question for m in _misses(harness))


async def test_misses_expire(harness: Harness) -> None:
    with Session(harness.engine) as session:
        record_miss(session=session, question="老问题", reason=MissReason.UNSURE)
        record_miss(session=session, question="新问题", reason=MissReason.UNSURE)
        session.commit()
        # Stored encrypted: found by reading, not by a WHERE on the ciphertext.
        old = next(m for m in session.exec(select(Miss)) if m.question == "老问题")
        kept = timedelta(days=harness.app.bot_data[SERVICES_KEY].settings.miss_keep_days)
        old.created_at = utcnow() - kept - timedelta(days=1)
        session.add(old)
        session.commit()
    sweep_drafts(harness.app.bot_data[SERVICES_KEY])
    assert [m.question for m in _misses(harness)] == ["新问题"]
