"""Issue 11 §1: a repeated message is not the next answer. Members who typed their phone again
and again while the bot was down, or whose copies came back after a failed reply, must not
find their phone stored as their 工作单位."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from storage.models import Draft, utcnow
from tests.handlers.conftest import Harness
from tests.handlers.test_forms import _draft, _forms, fill, start

PHONE = "13900001234"


async def _at_phone(harness: Harness) -> Draft:
    form = _forms(harness)["service_card"]
    await start(harness, form)
    await fill(harness, form, until="phone")
    draft = _draft(harness)
    assert draft is not None and draft.current_field == "phone"
    return draft


def _asked_earlier(harness: Harness, draft: Draft, seconds: float) -> None:
    with Session(harness.engine) as session:
        stored = session.get(Draft, draft.id)
        assert stored is not None
        stored.asked_at = utcnow() - timedelta(seconds=seconds)
        session.add(stored)
        session.commit()


async def _typed_while_down(harness: Harness, text: str, seconds_ago: float) -> None:
    update = harness.fake.user_message(harness.member, text=text, enqueue=False)
    update["message"]["date"] -= int(seconds_ago)
    await harness.process(update)


async def test_copies_typed_while_the_bot_was_down_are_not_the_next_answers(
    harness: Harness,
) -> None:
    draft = await _at_phone(harness)
    _asked_earlier(harness, draft, 120)  # the question went out two minutes ago
    sent = len(harness.fake.bot_messages(harness.member.id))
    for _ in range(4):  # typed four times during a minute the bot was away
        await _typed_while_down(harness, PHONE, 60)
    after = _draft(harness)
    assert after is not None
    assert str(after.answers["phone"]).endswith(PHONE)
    assert after.current_field == "unit" and "unit" not in after.answers
    # One reply (the next question), nothing for the copies.
    replies = harness.fake.bot_messages(harness.member.id)[sent:]
    assert len(replies) == 1 and "工作单位" in replies[0]["text"]


async def test_other_words_sent_before_the_question_are_set_aside_and_said_so(
    harness: Harness,
) -> None:
    draft = await _at_phone(harness)
    _asked_earlier(harness, draft, 120)
    await _typed_while_down(harness, PHONE, 60)
    reply = await _typed_while_down(harness, "在吗", 50) or harness.last(harness.member.id)
    assert "之前发送的" in reply["text"] and "工作单位" in reply["text"]
    after = _draft(harness)
    assert after is not None and "unit" not in after.answers


async def test_the_same_words_as_the_last_answer_are_asked_about(harness: Harness) -> None:
    form = _forms(harness)["service_card"]
    await start(harness, form)
    await fill(harness, form, until="unit")
    await harness.say("河东测试机械厂")
    asked = await harness.say("河东测试机械厂")
    assert "又发送了一遍" in asked["text"] and "所属基层工会" in asked["text"]
    draft = _draft(harness)
    assert draft is not None and "grassroots_union" not in draft.answers
    again = await harness.press("不是，我重新填")
    assert "基层工会名称" in again["text"]
    await harness.say("河东测试机械厂")
    kept = await harness.press("是我的所属基层工会")
    draft = _draft(harness)
    assert draft is not None and draft.answers["grassroots_union"] == "河东测试机械厂"
    assert kept is not None


async def test_an_answer_handled_again_after_a_crash_is_not_the_next_answer(
    harness: Harness,
) -> None:
    """Its effects were stored and its mark as handled was lost (a crash, or the database
    gone right after): the phone handled again is not the 工作单位, and the question it led to
    is asked again in case the crash lost it."""
    await _at_phone(harness)
    update = harness.fake.user_message(harness.member, text=PHONE, enqueue=False)
    await harness.process(update)
    asked = harness.last(harness.member.id)
    assert "工作单位" in asked["text"]
    sent = len(harness.fake.bot_messages(harness.member.id))
    await harness.process(update)  # the same update, handled again
    again = harness.fake.bot_messages(harness.member.id)[sent:]
    assert len(again) == 1 and again[0]["text"] == asked["text"]
    draft = _draft(harness)
    assert draft is not None and draft.current_field == "unit" and "unit" not in draft.answers
    # The member's next message is the answer, as usual.
    await harness.say("河东测试机械厂")
    draft = _draft(harness)
    assert draft is not None and draft.answers["unit"] == "河东测试机械厂"


async def test_a_lower_update_number_after_a_quiet_week_is_still_an_answer(
    harness: Harness,
) -> None:
    """Telegram numbers updates afresh, at random, after a week without any: a text sent
    after the question went out is new whatever its number."""
    draft = await _at_phone(harness)
    with Session(harness.engine) as session:
        stored = session.get(Draft, draft.id)
        assert stored is not None
        stored.last_update_id = 10**12  # far above what the fake will number
        stored.asked_at = utcnow() - timedelta(seconds=30)
        session.add(stored)
        session.commit()
    await harness.say(PHONE)
    after = _draft(harness)
    assert after is not None and str(after.answers["phone"]).endswith(PHONE)
