"""Issue 12 §3: every keeping rule the notices state is the rule the sweep keeps. The periods
are set to unusual values here, so a notice that hard-codes a period, or a sweep that ignores
the setting, fails: each rule's test reads its period in /privacy (and in a form's notice where
the form states it) and then checks that the sweep acts just after it, and not just before."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.app import sweep_drafts
from bot.fake.state import FakeUser
from bot.services import SERVICES_KEY, Services
from bot.workdays import CHINA
from knowledge.router import Router
from storage.cases import record_miss
from storage.db import make_engine
from storage.models import (
    Case,
    CaseEvent,
    CaseStatus,
    Draft,
    DraftStage,
    Member,
    Miss,
    MissReason,
    utcnow,
)
from tests.handlers.conftest import RIGHTS, Harness, harness_settings, running
from tests.handlers.test_forms import NUMBER, _forms, fill, start

PERIODS = {
    "case_keep_days": 100,
    "case_warn_days": 5,
    "draft_keep_days": 3,
    "miss_keep_days": 30,
    "member_keep_days": 200,
}


@pytest.fixture
async def kept(tmp_path: Path, router: Router, database_url: str) -> AsyncIterator[Harness]:
    settings = harness_settings(tmp_path, database_url=database_url, **PERIODS)
    async with running(settings, make_engine(settings.database_url), router) as running_bot:
        yield running_bot


def _svc(harness: Harness) -> Services:
    svc = harness.app.bot_data[SERVICES_KEY]
    assert isinstance(svc, Services)
    return svc


async def _sweep(harness: Harness) -> None:
    """The hourly sweep, as the job runs it (in a database thread), and what it owes sent."""
    svc = _svc(harness)
    await svc.db.call(sweep_drafts, svc)
    await svc.delivery.settle(harness.app.bot)


async def _privacy(harness: Harness) -> str:
    return str((await harness.say("/privacy"))["text"])


async def _file(harness: Harness) -> str:
    form = _forms(harness)["service_card"]
    privacy = await start(harness, form)
    assert "办结后保存100天" in privacy["text"]  # the form's own notice, from the settings
    assert "100天没有任何办理记录的申请将关闭并删除" in privacy["text"]
    await fill(harness, form)
    filed = await harness.press("提交")
    match = NUMBER.search(filed["text"])
    assert match is not None
    return match.group()


def _age_case(harness: Harness, *, days: float, closed: bool = False) -> None:
    """Time passes: the case's last activity (or its closing) is `days` ago, and everything
    recorded on it moves back with it."""
    with Session(harness.engine) as session:
        case = session.exec(select(Case)).one()
        anchor = case.closed_at if closed and case.closed_at else case.updated_at
        shift = utcnow() - timedelta(days=days) - anchor
        case.updated_at += shift
        if case.closed_at is not None:
            case.closed_at += shift
        session.add(case)
        for event in session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id)):
            event.at += shift
            session.add(event)
        session.commit()


def _case(harness: Harness) -> Case:
    with Session(harness.engine) as session:
        return session.exec(select(Case)).one()


async def test_closed_cases_are_emptied_after_the_keeping_time(kept: Harness) -> None:
    assert "办结后保存100天，到期删除" in await _privacy(kept)
    number = await _file(kept)
    await kept.say("/mycases")
    await kept.press(f"{number} {_forms(kept)['service_card'].title[:16]} · 已提交")
    await kept.press("撤回申请")
    await kept.press("确定撤回")
    _age_case(kept, days=99, closed=True)
    await _sweep(kept)
    assert _case(kept).answers, "kept within the keeping time"
    _age_case(kept, days=101, closed=True)
    await _sweep(kept)
    case = _case(kept)
    assert case.answers is None and case.number == number


async def test_idle_cases_are_warned_of_then_closed_as_expired(kept: Harness) -> None:
    privacy = await _privacy(kept)
    assert "100天没有任何办理记录的申请将关闭并删除，部门会提前5天收到提醒" in privacy
    number = await _file(kept)
    staff_before = len(kept.fake.bot_messages(RIGHTS))

    _age_case(kept, days=94)  # not yet within 5 days of the end
    await _sweep(kept)
    assert len(kept.fake.bot_messages(RIGHTS)) == staff_before

    _age_case(kept, days=96)
    await _sweep(kept)
    warning = kept.texts(RIGHTS)[-1]
    assert number in warning and "过期关闭" in warning and "备注" in warning
    await _sweep(kept)  # warned once, not every hour
    assert sum("将于" in t and number in t for t in kept.texts(RIGHTS)) == 1
    case = _case(kept)
    assert case.status is CaseStatus.OPEN and case.answers, "a warning is not activity"

    # Anything staff record starts the time again: here a note on the card.
    assert case.card_message_id is not None
    await kept.press_on(RIGHTS, case.card_message_id, "备注", user=kept.staffer)
    await kept.staff_reply(RIGHTS, kept.fake.bot_messages(RIGHTS)[-1]["message_id"], "等单位盖章")
    assert utcnow() - _case(kept).updated_at < timedelta(minutes=1), "the note is activity"
    await _sweep(kept)
    assert _case(kept).status is CaseStatus.OPEN
    _age_case(kept, days=96)  # idle again: warned again
    await _sweep(kept)
    assert sum("将于" in t and number in t for t in kept.texts(RIGHTS)) == 2

    member_before = len(kept.fake.bot_messages(kept.member.id))
    _age_case(kept, days=102)  # and the warning five days old
    await _sweep(kept)
    case = _case(kept)
    assert case.status is CaseStatus.EXPIRED and case.closed_at is not None
    assert case.answers is None, "closed and emptied at once: it was kept the keeping time"
    told = kept.texts(kept.member.id)[member_before:]
    assert any(number in t and "已按保存期限关闭" in t for t in told)
    assert any(number in t and "已按保存期限过期关闭" in t for t in kept.texts(RIGHTS))
    with Session(kept.engine) as session:
        actions = [e.action for e in session.exec(select(CaseEvent)).all()]
    assert "expiry_warned" in actions and "expired" in actions
    shown = await kept.say("/mycases")
    assert "已过期关闭" in shown["text"] or any(
        "已过期关闭" in b["text"]
        for row in (shown.get("reply_markup") or {}).get("inline_keyboard", [])
        for b in row
    )


async def test_drafts_go_after_their_keeping_time(kept: Harness) -> None:
    assert "未提交的草稿：最后一次填写3天后删除" in await _privacy(kept)
    form = _forms(kept)["service_card"]
    privacy = await start(kept, form)
    assert "未提交的草稿在最后一次填写3天后删除" in privacy["text"]
    await kept.press("是")
    await kept.say("张测试")

    def age(days: float) -> None:
        with Session(kept.engine) as session:
            draft = session.exec(select(Draft)).one()
            draft.updated_at = utcnow() - timedelta(days=days)
            session.add(draft)
            session.commit()

    age(2.9)
    await _sweep(kept)
    with Session(kept.engine) as session:
        assert session.exec(select(Draft)).one().stage is DraftStage.FILLING
    age(3.1)
    await _sweep(kept)
    with Session(kept.engine) as session:
        draft = session.exec(select(Draft)).one()
        assert draft.stage is DraftStage.EXPIRED and draft.answers == {}


async def test_misses_go_after_their_keeping_time(kept: Harness) -> None:
    assert "没能解答的问题去掉其中的号码后保存30天" in await _privacy(kept)
    assert "保存30天" in (await kept.say("/start"))["text"] or any(
        "保存30天" in t for t in kept.texts(kept.member.id)
    )
    with Session(kept.engine) as session:
        for text, days in (("二十九天前", 29), ("三十一天前", 31)):
            record_miss(session=session, question=text, reason=MissReason.UNSURE)
            session.flush()
            miss = next(m for m in session.exec(select(Miss)) if m.question == text)
            miss.created_at = utcnow() - timedelta(days=days)
            session.add(miss)
        session.commit()
    await _sweep(kept)
    with Session(kept.engine) as session:
        assert [m.question for m in session.exec(select(Miss))] == ["二十九天前"]


async def test_a_last_question_is_kept_a_day(kept: Harness) -> None:
    assert "最近一条提问保留1天" in await _privacy(kept)
    await kept.say("我想问问职工之家怎么评")

    def asked(days: float) -> None:
        with Session(kept.engine) as session:
            member = session.exec(select(Member)).one()
            assert member.pending_question
            member.pending_question_at = utcnow() - timedelta(days=days)
            session.add(member)
            session.commit()

    asked(0.9)
    await _sweep(kept)
    asked(1.1)
    await _sweep(kept)
    with Session(kept.engine) as session:
        assert session.exec(select(Member)).one().pending_question is None


async def test_quiet_members_are_forgotten_after_their_keeping_time(kept: Harness) -> None:
    assert "200天未使用后删除" in await _privacy(kept)
    quiet, filer = kept.member, FakeUser(id=700777, first_name="申请人")
    await kept.say("你好", quiet)
    await _file_as(kept, filer)

    def last_seen(days: float) -> None:
        with Session(kept.engine) as session:
            for member in session.exec(select(Member)):
                member.last_seen_at = utcnow() - timedelta(days=days)
                session.add(member)
            session.commit()

    def ids() -> set[int]:
        with Session(kept.engine) as session:
            return {m.telegram_id for m in session.exec(select(Member))}

    last_seen(199)
    await _sweep(kept)
    assert ids() == {quiet.id, filer.id}
    last_seen(201)
    await _sweep(kept)
    assert ids() == {filer.id}, "nothing kept for the quiet member: the row goes"

    # The filer's row stays while their case holds content, and loses who they were once the
    # case has been emptied.
    with Session(kept.engine) as session:
        case = session.exec(select(Case)).one()
        case.status, case.closed_at = CaseStatus.WITHDRAWN, utcnow()
        session.add(case)
        session.commit()
    _age_case(kept, days=101, closed=True)
    await _sweep(kept)  # empties the case (and touches nothing of the member yet)
    last_seen(201)
    await _sweep(kept)
    with Session(kept.engine) as session:
        member = session.exec(select(Member)).one()
        assert member.telegram_id < 0 and member.chat_id == 0
        assert session.exec(select(Case)).one().member_id == member.id


async def _file_as(harness: Harness, user: FakeUser) -> None:
    form = _forms(harness)["service_card"]
    await start(harness, form, user)
    await fill(harness, form, user=user, person=1)
    await harness.press("提交", user)


async def test_no_case_is_closed_without_a_full_warning(kept: Harness) -> None:
    """A case found idle past its time (the bot was down, or the setting was shortened) is
    warned of first, and closed only when the warning is as old as the warning period."""
    number = await _file(kept)
    _age_case(kept, days=300)
    await _sweep(kept)
    assert _case(kept).status is CaseStatus.OPEN
    warning = next(t for t in reversed(kept.texts(RIGHTS)) if number in t and "将于" in t)
    closes = (utcnow() + timedelta(days=5)).astimezone(CHINA).strftime("%Y-%m-%d")
    assert closes in warning, "the date said is a full warning period away"
    await _sweep(kept)
    assert _case(kept).status is CaseStatus.OPEN
    _age_case(kept, days=306)  # the warning period on
    await _sweep(kept)
    assert _case(kept).status is CaseStatus.EXPIRED


async def test_an_emptied_case_says_nothing_of_who_filed_it(kept: Harness) -> None:
    await _file(kept)
    with Session(kept.engine) as session:
        case = session.exec(select(Case)).one()
        case.status, case.closed_at = CaseStatus.COMPLETED, utcnow()
        session.add(case)
        session.commit()
    _age_case(kept, days=101, closed=True)
    await _sweep(kept)
    with Session(kept.engine) as session:
        events = session.exec(select(CaseEvent)).all()
        assert all(e.actor_telegram_id is None for e in events if e.actor.value == "member")
        draft = session.exec(select(Draft)).one()
        assert draft.answers == {} and draft.last_answer is None


async def test_a_consultation_typed_as_the_purged_subject_is_still_purged(kept: Harness) -> None:
    from storage.cases import PURGED_SUBJECT

    await kept.say(PURGED_SUBJECT)
    await kept.press("转人工")
    with Session(kept.engine) as session:
        case = session.exec(select(Case)).one()
        case.status, case.closed_at = CaseStatus.CLOSED, utcnow()
        session.add(case)
        session.commit()
    _age_case(kept, days=101, closed=True)
    await _sweep(kept)
    with Session(kept.engine) as session:
        actions = [e.action for e in session.exec(select(CaseEvent)).all()]
    assert "purged" in actions


async def test_staff_are_not_members_gone_quiet(kept: Harness) -> None:
    await kept.say("你好", kept.staffer)  # a staffer trying the bot in private
    with Session(kept.engine) as session:
        member = session.exec(select(Member)).one()
        member.last_seen_at = utcnow() - timedelta(days=201)
        session.add(member)
        session.commit()
    await _sweep(kept)
    with Session(kept.engine) as session:
        assert session.exec(select(Member)).one().telegram_id == kept.staffer.id
