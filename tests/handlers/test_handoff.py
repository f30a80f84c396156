"""转人工: a consultation from the member's question to the staff chat and back."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import Session, col, select

from bot.app import startup
from bot.services import SERVICES_KEY, Services
from storage.models import (
    Attachment,
    Case,
    CaseEvent,
    CaseStatus,
    OutboxMessage,
    OutboxStatus,
    utcnow,
)
from tests.handlers.conftest import ADMIN, GENERAL, ORGANIZATION, PUBLICITY, RIGHTS, Harness

NUMBER = re.compile(r"HD-\d{4}-\d{6}")
STORY = "我老公查出癌症，家里实在困难，工会能给点帮扶吗"


def _case(harness: Harness) -> Case:
    with Session(harness.engine) as session:
        cases = session.exec(select(Case)).all()
    assert len(cases) == 1
    return cases[0]


async def _hand_over(harness: Harness) -> tuple[str, dict]:  # type: ignore[type-arg]
    await harness.say(STORY)
    done = await harness.press("转人工")
    match = NUMBER.search(done["text"])
    assert match, done["text"]
    card = harness.last(RIGHTS)
    return match.group(), card


async def test_handoff_files_a_case_and_sends_the_card_to_the_duty_department(
    harness: Harness,
) -> None:
    number, card = await _hand_over(harness)
    assert number in card["text"]
    assert STORY in card["text"]
    assert "3.1" in card["text"] and "权益保障部" in card["text"]
    assert "测试会员" in card["text"]
    case = _case(harness)
    assert case.number == number
    assert case.department == "权益保障部"
    assert case.status is CaseStatus.OPEN
    assert harness.fake.bot_messages(GENERAL) == [], "the general chat is not bothered"


async def test_staff_reply_reaches_the_member_marked_as_from_the_union(harness: Harness) -> None:
    number, card = await _hand_over(harness)
    confirmation = await harness.staff_reply(
        RIGHTS, card["message_id"], "您好，请携带诊断证明到区总工会。"
    )
    assert number in confirmation["text"]
    received = harness.last(harness.member.id)
    assert received["text"].startswith("天津市河东区总工会工作人员回复")
    assert "请携带诊断证明到区总工会。" in received["text"]

    # The member's next messages go to the same thread, under the card.
    relayed = await harness.say("好的，需要带户口本吗")
    assert number in relayed["text"]
    follow_up = harness.last(RIGHTS)
    assert "需要带户口本吗" in follow_up["text"]
    assert follow_up["reply_to_message"]["message_id"] == card["message_id"]

    # A staff reply to the follow-up reaches the member too.
    await harness.staff_reply(RIGHTS, follow_up["message_id"], "不需要。")
    assert "不需要。" in harness.last(harness.member.id)["text"]

    with Session(harness.engine) as session:
        actions = [e.action for e in session.exec(select(CaseEvent).order_by(CaseEvent.id))]
    # The first staff reply starts the consultation (办理中).
    assert actions == ["filed", "staff_reply", "in_progress", "member_message", "staff_reply"]
    assert _case(harness).status is CaseStatus.IN_PROGRESS


async def test_staff_close_ends_the_consultation_and_the_router_answers_again(
    harness: Harness,
) -> None:
    _number, card = await _hand_over(harness)
    await harness.staff_reply(RIGHTS, card["message_id"], "/close")
    ended, rate = harness.texts(harness.member.id)[-2:]
    assert "已结束" in ended and "评价" in rate
    assert _case(harness).status is CaseStatus.CLOSED
    answer = await harness.say("会员卡怎么办理")
    assert "办理流程" in answer["text"]
    late = await harness.staff_reply(RIGHTS, card["message_id"], "还有问题吗")
    assert "已结束" in late["text"]
    assert "还有问题吗" not in harness.last(harness.member.id)["text"]


async def test_member_ends_the_consultation(harness: Harness) -> None:
    number, _ = await _hand_over(harness)
    ended = await harness.press("结束人工咨询")
    assert number in ended["text"]
    assert "会员已结束" in harness.last(RIGHTS)["text"]
    assert "当前没有" in (await harness.say("/cancel"))["text"]


async def test_nothing_else_in_the_staff_chat_reaches_a_member(harness: Harness) -> None:
    _, card = await _hand_over(harness)
    before = harness.texts(harness.member.id)
    # Chatter among staff, not a reply to the bot.
    await harness.process(
        harness.fake.user_message(harness.staffer, RIGHTS, text="这个谁来跟？", enqueue=False)
    )
    # A reply to a staffer's own message.
    own = harness.fake.user_message(harness.staffer, RIGHTS, text="我来", enqueue=False)
    await harness.process(own)
    await harness.process(
        harness.fake.user_message(
            harness.staffer,
            RIGHTS,
            text="好",
            reply_to_message_id=own["message"]["message_id"],
            enqueue=False,
        )
    )
    # A reply to a bot message that is no case (the bot's own confirmation).
    confirmation = await harness.staff_reply(RIGHTS, card["message_id"], "收到")
    unknown = await harness.staff_reply(RIGHTS, confirmation["message_id"], "这条不该转出")
    assert "不对应任何咨询" in unknown["text"]
    after = harness.texts(harness.member.id)
    assert len(after) == len(before) + 1 and "收到" in after[-1]


async def test_handoff_without_a_question_asks_for_it_first(harness: Harness) -> None:
    asked = await harness.say("/human")
    assert "描述您要咨询的问题" in asked["text"]
    done = await harness.say("我们单位想成立工会，不知道从哪开始")
    assert NUMBER.search(done["text"])
    assert "成立工会" in harness.last(ORGANIZATION)["text"]


async def test_unknown_duty_goes_to_the_general_staff_chat(harness: Harness) -> None:
    await harness.say("我有个事想当面问问")
    await harness.press("转人工")
    assert "我有个事想当面问问" in harness.last(GENERAL)["text"]
    assert "未能识别" in harness.last(GENERAL)["text"]


async def test_a_photo_in_a_consultation_is_kept_with_the_case_not_posted(
    harness: Harness,
) -> None:
    _, card = await _hand_over(harness)
    await harness.process(
        harness.fake.user_message(harness.member, photo=True, caption="诊断书", enqueue=False)
    )
    staff = harness.fake.bot_messages(RIGHTS)
    assert not any("photo" in m for m in staff), "files reach staff privately, on request"
    assert "会员发来了一张照片" in staff[-1]["text"]
    assert staff[-1]["reply_to_message"]["message_id"] == card["message_id"]
    assert "查看材料（1）" in str(harness.fake.message(RIGHTS, card["message_id"]))
    with Session(harness.engine) as session:
        stored = session.exec(select(Attachment)).one()
    assert stored.case_id == _case(harness).id and stored.kind == "photo"


async def test_a_long_question_fits_the_card(harness: Harness) -> None:
    long_story = "我老公查出癌症，家里困难。" * 300  # 3,900 characters
    await harness.say(long_story)
    await harness.press("转人工")
    card = harness.last(RIGHTS)
    assert len(card["text"]) <= 4096
    assert "全文 3900 字" in card["text"]
    assert _case(harness).subject == long_story, "the case keeps the whole question"


async def test_the_card_waits_in_the_outbox_while_telegram_refuses(harness: Harness) -> None:
    await harness.say(STORY)
    # Five sends fail: the member's confirmation, tried three times and then handed to the
    # outbox, where it goes first and fails again, and the card.
    harness.fake.fail_next(5, method="sendMessage")
    await harness.press("转人工")
    assert harness.fake.bot_messages(RIGHTS) == []
    with Session(harness.engine) as session:
        pending = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
    assert [(m.status, m.chat_id, m.attempts) for m in pending] == [
        (OutboxStatus.PENDING, RIGHTS, 1),
        (OutboxStatus.PENDING, harness.member.id, 1),
    ]
    assert pending[1].priority == 0  # the member's answer goes before staff traffic

    # Telegram is back; the delivery worker sends both when they are due again.
    svc: Services = harness.app.bot_data[SERVICES_KEY]
    with Session(harness.engine) as session:
        for stored in session.exec(select(OutboxMessage)).all():
            stored.next_attempt_at = utcnow() - timedelta(seconds=1)
            session.add(stored)
        session.commit()
    assert await svc.postman.flush(harness.app.bot) == 2
    assert STORY in harness.last(RIGHTS)["text"]
    assert "已为您转接人工" in harness.last(harness.member.id)["text"]
    # A staff reply to the late card still finds its case.
    await harness.staff_reply(RIGHTS, harness.last(RIGHTS)["message_id"], "已收到")
    assert "已收到" in harness.last(harness.member.id)["text"]


async def test_a_direct_reply_rides_out_a_short_outage(harness: Harness) -> None:
    harness.fake.fail_next(2, method="sendMessage")
    answer = await harness.say("会员服务卡怎么办理")
    assert "会员" in answer["text"]
    with Session(harness.engine) as session:
        assert session.exec(select(OutboxMessage)).all() == []
    harness.fake.inject_429(1, retry_after=1, methods={"sendMessage"})
    again = await harness.say("职工之家怎么申报")
    assert "职工之家" in again["text"]
    assert not any("出错" in text for text in harness.texts(harness.member.id))


async def test_a_blocked_member_is_reported_to_staff(harness: Harness) -> None:
    _, card = await _hand_over(harness)
    harness.fake.block(harness.member.id, enqueue=False)
    await harness.staff_reply(RIGHTS, card["message_id"], "请问还需要帮助吗")
    assert "无法送达" in harness.last(RIGHTS)["text"]
    with Session(harness.engine) as session:
        failed = session.exec(
            select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
        ).all()
    assert len(failed) == 1


async def test_startup_is_repeatable(harness: Harness) -> None:
    harness.fake.commands.clear()
    await startup(harness.app)  # a second start (a restart) sets the command menu again
    assert harness.fake.commands


async def test_an_old_question_is_not_handed_over_for_another_duty(harness: Harness) -> None:
    await harness.say("会员卡怎么办理")
    await harness.say("/menu")
    await harness.press("4. 评选劳模及帮扶劳模")
    await harness.press("4.2 负责全区困难劳模帮扶工作")
    asked = await harness.press("转人工")
    assert "描述您要咨询的问题" in asked["text"]
    done = await harness.say("我父亲是老劳模，生病了家里困难")
    assert NUMBER.search(done["text"])
    card = harness.last(PUBLICITY)
    assert "4.2" in card["text"] and "老劳模" in card["text"]
    assert "会员卡" not in card["text"]


async def test_a_staff_chat_that_refuses_the_card_falls_back_to_the_general_chat(
    harness: Harness,
) -> None:
    harness.fake.register_chat(ADMIN, type="private", first_name="管理员")
    harness.fake.block(RIGHTS, enqueue=False)  # e.g. the bot was removed from the group
    number, _ = await _hand_over_without_card(harness)
    card = harness.last(GENERAL)
    assert number in card["text"] and STORY in card["text"]
    assert "已改发综合工作群" in harness.last(ADMIN)["text"]
    await harness.staff_reply(GENERAL, card["message_id"], "这边已收到，稍后联系您。")
    assert "稍后联系您" in harness.last(harness.member.id)["text"]


async def _hand_over_without_card(harness: Harness) -> tuple[str, None]:
    await harness.say(STORY)
    done = await harness.press("转人工")
    match = NUMBER.search(done["text"])
    assert match
    return match.group(), None


async def test_close_is_for_consultations_not_applications(harness: Harness) -> None:
    from tests.handlers.test_forms import _forms, fill, start

    form = _forms(harness)["union_founding"]
    await start(harness, form)
    await fill(harness, form)
    await harness.press("提交")
    card = next(m for m in harness.fake.bot_messages(ORGANIZATION) if m["text"].startswith("申请"))
    answer = await harness.staff_reply(ORGANIZATION, card["message_id"], "/close")
    assert "只用于结束人工咨询" in answer["text"]
    with Session(harness.engine) as session:
        assert session.exec(select(Case)).one().status is CaseStatus.OPEN
