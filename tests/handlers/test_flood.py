"""Issue 11 §1: per-member flood control. One member's flood gets one 请稍后再发 and a
cool-down; other members are not slowed; a consultation's burst reaches staff as one post;
a member opens only so many consultations a day."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.fake import FakeUser
from bot.flood import FloodRule, Verdict, check
from knowledge.router import Router
from storage.db import make_engine
from storage.models import Member, utcnow
from tests.handlers.conftest import RIGHTS, Harness, harness_settings, running
from tests.handlers.test_handoff import _hand_over


@pytest.fixture
async def strict(tmp_path: Path, router: Router) -> AsyncIterator[Harness]:
    """The bot with the shipped flood rule, a short cool-down, and two consultations a day."""
    settings = harness_settings(
        tmp_path, flood_burst=12, flood_cooldown_seconds=30, consultations_per_day=2
    )
    async with running(settings, make_engine(settings.database_url), router) as bot:
        yield bot


def test_the_bucket_refills_and_a_flood_cools_down() -> None:
    member = Member(telegram_id=1, chat_id=1)
    rule = FloodRule(burst=3, refill_seconds=2, cooldown=timedelta(seconds=30))
    now = utcnow()
    assert [check(member, now, rule) for _ in range(5)] == [
        Verdict.ALLOW,
        Verdict.ALLOW,
        Verdict.ALLOW,
        Verdict.WARN,
        Verdict.DROP,
    ]
    assert check(member, now + timedelta(seconds=29), rule) == Verdict.DROP
    later = now + timedelta(seconds=31)
    assert check(member, later, rule) == Verdict.ALLOW  # half a bucket after the pause
    quiet = Member(telegram_id=2, chat_id=2)
    for n in range(20):  # one message every two seconds never floods
        assert check(quiet, now + timedelta(seconds=2 * n), rule) == Verdict.ALLOW


async def test_one_member_flooding_hears_once_and_others_are_not_slowed(
    strict: Harness,
) -> None:
    for n in range(20):
        await strict.say(f"你好{n}")
    texts = strict.texts(strict.member.id)
    assert sum("发送得太快了" in text for text in texts) == 1
    assert len(texts) == 13  # twelve answers, one warning, then silence
    other = FakeUser(id=700099, first_name="另一位会员")
    answer = await strict.say("会员服务卡怎么办理", other)
    assert "会员" in answer["text"] and "太快" not in answer["text"]
    with Session(strict.engine) as session:
        member = session.exec(select(Member).where(Member.telegram_id == strict.member.id)).one()
    assert member.flood_until is not None and member.flood_until > utcnow()


async def test_a_consultation_burst_reaches_staff_as_one_post(harness: Harness) -> None:
    await _hand_over(harness)
    posts_before = len(harness.fake.bot_messages(RIGHTS))
    # Staff chat posts wait their turn (Telegram allows a group 20 a minute): hold delivery
    # while the member types, as a busy group does.
    svc = harness.app.bot_data["services"]
    delivery_settle = svc.delivery.settle

    async def held(_bot: object) -> None:
        return None

    svc.delivery.settle = held  # type: ignore[method-assign]
    try:
        for n in range(30):
            await harness.say(f"补充情况第{n}条")
    finally:
        svc.delivery.settle = delivery_settle  # type: ignore[method-assign]
    await svc.delivery.settle(harness.app.bot)
    posts = harness.fake.bot_messages(RIGHTS)[posts_before:]
    relayed = [p["text"] for p in posts if "会员追加消息" in p["text"]]
    assert len(relayed) == 1, relayed
    assert all(f"补充情况第{n}条" in relayed[0] for n in range(30))


async def test_a_member_opens_only_so_many_consultations_a_day(strict: Harness) -> None:
    for _ in range(2):
        await _hand_over(strict)
        await strict.press("结束人工咨询")
    await strict.say("我老公查出癌症，家里实在困难，工会能给点帮扶吗")
    refused = await strict.press("转人工")
    assert "今天已经发起了2次人工咨询" in refused["text"] and "24312556" in refused["text"]
