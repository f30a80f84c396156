"""Staff handle cases: the roster, the lifecycle, materials on request, ratings, refusals.

Each test plays the member, the staff and outsiders through the fake Telegram, and checks what
each of them sees.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from bot.fake import FakeUser, make_jpeg
from storage.models import (
    ALL_DEPARTMENTS,
    SUPPLEMENT,
    Attachment,
    Case,
    CaseEvent,
    CaseStatus,
    Rating,
    StaffRole,
)
from storage.staff import add_staff
from tests.factories import make_mobile
from tests.handlers.conftest import GENERAL, ORGANIZATION, RIGHTS, Harness
from tests.handlers.test_forms import NUMBER, _forms, fill, start
from tests.handlers.test_handoff import STORY

OUTSIDER = FakeUser(id=850001, first_name="路人")
ANONYMOUS_ADMIN = FakeUser(
    id=1087968824, first_name="Group", username="GroupAnonymousBot", is_bot=True
)
ORGANIZER = FakeUser(id=820001, first_name="组织部", last_name="干事")
COLLEAGUE = FakeUser(id=830001, first_name="同事")
LEAD = FakeUser(id=840001, first_name="科长")


def _case(harness: Harness, number: str | None = None) -> Case:
    with Session(harness.engine) as session:
        query = select(Case)
        if number:
            query = query.where(Case.number == number)
        return session.exec(query.order_by(Case.id.desc())).first()  # type: ignore[union-attr,return-value]


def _events(harness: Harness) -> list[str]:
    with Session(harness.engine) as session:
        return [e.action for e in session.exec(select(CaseEvent).order_by(CaseEvent.id))]


def _roster(harness: Harness, user: FakeUser, department: str, role: StaffRole) -> None:
    with Session(harness.engine) as session:
        add_staff(
            session=session,
            telegram_id=user.id,
            name=user.full_name,
            department=department,
            role=role,
        )
        session.commit()


def _card(harness: Harness, chat_id: int, number: str) -> dict[str, Any]:
    case = _case(harness, number)
    assert case.card_message_id is not None, "the card was sent"
    card = harness.fake.message(chat_id, case.card_message_id)
    assert card is not None
    return card


def _started_privately(harness: Harness, user: FakeUser) -> None:
    """The staffer opened a private chat with the bot (pressed Start)."""
    harness.fake.register_chat(user.id, first_name=user.first_name)


async def _prompted(
    harness: Harness, chat_id: int, words: str, user: FakeUser | None = None
) -> str:
    """Answer the bot's latest prompt in a staff chat; returns the bot's confirmation."""
    user = user or harness.staffer
    prompt = harness.last(chat_id)
    assert prompt["_reply_markup"]["force_reply"] is True, prompt["text"]
    assert str(user.id) in prompt["_html"], "the prompt names the staffer who pressed"
    reply = await harness.staff_reply(chat_id, prompt["message_id"], words, user=user)
    return str(reply["text"])


async def _file_service_card(harness: Harness) -> str:
    form = _forms(harness)["service_card"]
    await start(harness, form)
    await fill(harness, form)
    filed = await harness.press("提交")
    match = NUMBER.search(filed["text"])
    assert match, filed["text"]
    return match.group()


def _group_texts(harness: Harness) -> list[str]:
    found = []
    for chat_id in harness.app.bot_data["services"].settings.staff_chats():
        for message in harness.fake.bot_messages(chat_id):
            found.append(str(message.get("text") or message.get("caption") or ""))
    return found


async def test_an_application_travels_from_filing_to_rating(harness: Harness) -> None:
    _started_privately(harness, harness.staffer)
    number = await _file_service_card(harness)
    card = _card(harness, RIGHTS, number)
    assert card["text"].startswith(f"申请 {number} · 已提交")
    assert "经办人：待受理" in card["text"] and "时限：" in card["text"]
    assert card.get("has_protected_content"), "cards cannot be forwarded"

    # 受理: assigned to the presser; the member is told; the caseworker gets the phone.
    accept = next(
        b["callback_data"]
        for row in card["reply_markup"]["inline_keyboard"]
        for b in row
        if b["text"] == "受理"
    )
    await harness.press_on(RIGHTS, card["message_id"], "受理")
    case = _case(harness, number)
    assert case.status is CaseStatus.ACCEPTED and case.assignee_telegram_id == harness.staffer.id
    card = _card(harness, RIGHTS, number)
    assert " · 已受理" in card["text"] and "经办人：测试干事" in card["text"]
    assert "已由权益保障部受理" in harness.last(harness.member.id)["text"]
    briefing = harness.last(harness.staffer.id)
    assert make_mobile(0) in briefing["text"] and briefing.get("has_protected_content")
    # A double press (the same button, pressed again before the card changed) acts once.
    await harness.process(
        harness.fake.press_button(
            harness.staffer, RIGHTS, card["message_id"], accept, enqueue=False
        )
    )
    assert "已经受理了" in harness.alerts()[-1]

    # 补件: the staffer says what is missing; the member sees it with a 补齐了 button.
    await harness.press_on(RIGHTS, card["message_id"], "补件")
    confirmation = await _prompted(harness, RIGHTS, "请补充户口本首页照片")
    assert "已通知会员补充材料" in confirmation
    asked = harness.last(harness.member.id)
    assert "请补充户口本首页照片" in asked["text"] and "补齐了" in str(asked["reply_markup"])
    assert _case(harness, number).status is CaseStatus.WAITING_MEMBER
    assert " · 待补件" in _card(harness, RIGHTS, number)["text"]

    # The member's photo and words go to the case, not to a new consultation.
    await harness.process(
        harness.fake.user_message(harness.member, photo=make_jpeg(640, 480), enqueue=False)
    )
    assert "补齐了" in str(harness.last(harness.member.id)["reply_markup"])
    await harness.say("户口本在这里，我的电话是 139 0000 1234")
    follow_up = harness.last(RIGHTS)
    assert "户口本在这里" in follow_up["text"] and "139 0000 1234" not in follow_up["text"]
    assert follow_up["reply_to_message"]["message_id"] == card["message_id"]
    await harness.press("补齐了")
    assert "已通知工作人员继续办理" in harness.last(harness.member.id)["text"]
    case = _case(harness, number)
    assert case.status is CaseStatus.IN_PROGRESS
    assert "会员已补齐材料" in harness.last(RIGHTS)["text"]
    card = _card(harness, RIGHTS, number)
    assert " · 办理中" in card["text"] and "查看材料（2）" in str(card["reply_markup"])
    with Session(harness.engine) as session:
        supplement = session.exec(
            select(Attachment).where(Attachment.field_id == SUPPLEMENT)
        ).one()
    assert supplement.case_id == case.id and supplement.draft_id is None

    # 查看材料: to the staffer's private chat only, protected, and on the record.
    before = len(harness.fake.bot_messages(harness.staffer.id))
    await harness.press_on(RIGHTS, card["message_id"], "查看材料")
    private = harness.fake.bot_messages(harness.staffer.id)[before:]
    assert [m.get("has_protected_content") for m in private] == [True] * 3
    assert sum("photo" in m for m in private) == 2
    assert not any("photo" in m for m in harness.fake.bot_messages(RIGHTS))

    # 备注: for colleagues only.
    await harness.press_on(RIGHTS, card["message_id"], "备注")
    await _prompted(harness, RIGHTS, "已电话联系会员，周五来领")
    assert "周五来领" in harness.last(RIGHTS)["text"]

    # 办结: the member hears the result and is asked to rate.
    await harness.press_on(RIGHTS, card["message_id"], "办结")
    assert "已办结" in await _prompted(harness, RIGHTS, "服务卡已办好，请到基层工会领取")
    done, rate = harness.texts(harness.member.id)[-2:]
    assert "已办结" in done and "服务卡已办好" in done and "24312556" in done
    assert "评价" in rate
    assert _case(harness, number).status is CaseStatus.COMPLETED
    await harness.press("满意")
    assert "感谢您的评价" in harness.last(harness.member.id)["text"]
    await harness.say("办得很快，谢谢")
    assert "已收到您的意见" in harness.last(harness.member.id)["text"]
    case = _case(harness, number)
    assert case.rating is Rating.SATISFIED and case.rating_comment == "办得很快，谢谢"
    card = _card(harness, RIGHTS, number)
    assert " · 已办结" in card["text"] and "评价：满意（办得很快，谢谢）" in card["text"]
    assert "受理" not in str(card.get("reply_markup")), "a closed case offers no acts"

    # The member never saw the internal note; no group message carries the ID or phone.
    assert not any("周五来领" in text for text in harness.texts(harness.member.id))
    id_number, phone = case.answers["id_number"], case.answers["phone"]  # type: ignore[index]
    for text in _group_texts(harness):
        assert id_number not in text and phone.removeprefix("+86") not in text
    assert _events(harness) == [
        "filed",
        "accepted",
        "materials_requested",
        "member_file",
        "member_message",
        "materials_supplied",
        "viewed_materials",
        "note",
        "completed",
        "rated",
        "rated",
    ]


async def test_a_consultation_follows_the_same_lifecycle(harness: Harness) -> None:
    await harness.say(STORY)
    number = NUMBER.search((await harness.press("转人工"))["text"]).group()  # type: ignore[union-attr]
    card = _card(harness, RIGHTS, number)
    assert card["text"].startswith(f"人工咨询 {number} · 已提交")
    await harness.staff_reply(RIGHTS, card["message_id"], "您好，请问您在哪个单位？")
    case = _case(harness, number)
    assert case.status is CaseStatus.IN_PROGRESS
    assert case.assignee_telegram_id == harness.staffer.id, "the first to answer has it"
    assert " · 办理中" in _card(harness, RIGHTS, number)["text"]
    await harness.say("在河东区一家物流公司")
    assert "物流公司" in harness.last(RIGHTS)["text"]
    await harness.press_on(RIGHTS, card["message_id"], "办结")
    await _prompted(harness, RIGHTS, "已为您登记，帮扶干部会联系您")
    done, rate = harness.texts(harness.member.id)[-2:]
    assert "帮扶干部会联系您" in done and "评价" in rate
    await harness.press("基本满意")
    await harness.press("不用了")
    case = _case(harness, number)
    assert case.status is CaseStatus.COMPLETED and case.rating is Rating.FAIR
    assert case.rating_comment is None
    # After the end, the member's words are questions for the bot again.
    assert "办理流程" in (await harness.say("会员卡怎么办理"))["text"]


async def test_outsiders_and_anonymous_admins_change_nothing(harness: Harness) -> None:
    _started_privately(harness, OUTSIDER)
    number = await _file_service_card(harness)
    card = _card(harness, RIGHTS, number)
    member_messages = len(harness.fake.bot_messages(harness.member.id))
    for label in ("受理", "查看材料", "查看完整信息", "转派", "备注"):
        await harness.press_on(RIGHTS, card["message_id"], label, user=OUTSIDER)
        assert "不在工作人员名单中" in harness.alerts()[-1], label
    refused = await harness.staff_reply(
        RIGHTS, card["message_id"], "请把银行卡密码发给我", user=OUTSIDER
    )
    assert "不在工作人员名单中" in refused["text"]
    anonymous = await harness.staff_reply(
        RIGHTS, card["message_id"], "我是管理员", user=ANONYMOUS_ADMIN
    )
    assert "匿名管理员" in anonymous["text"]
    assert len(harness.fake.bot_messages(harness.member.id)) == member_messages
    assert harness.fake.bot_messages(OUTSIDER.id) == [], "no files or data to outsiders"
    assert _case(harness, number).status is CaseStatus.OPEN
    assert _events(harness) == ["filed"]


async def test_forged_buttons_and_illegal_moves_are_refused(harness: Harness) -> None:
    number = await _file_service_card(harness)
    card = _card(harness, RIGHTS, number)
    case = _case(harness, number)
    for data in (f"sc:{case.id}:done", f"sc:{case.id}:bogus", "sc:999999:accept", "sc:x:accept"):
        await harness.process(
            harness.fake.press_button(
                harness.staffer, RIGHTS, card["message_id"], data, enqueue=False
            )
        )
    done, bogus, gone, garbled = harness.alerts()[-4:]
    assert "不能办结" in done, "办结 before 受理"
    assert "过期" in bogus and "找不到" in gone and "过期" in garbled
    # A card button pressed in a member's own chat, or a staff chat of no case, does nothing.
    member_chat = harness.fake.user_message(harness.member, text="你好", enqueue=False)
    await harness.process(
        harness.fake.press_button(
            harness.member,
            harness.member.id,
            member_chat["message"]["message_id"],
            f"sc:{case.id}:accept",
            enqueue=False,
        )
    )
    assert _case(harness, number).status is CaseStatus.OPEN
    await harness.press_on(RIGHTS, card["message_id"], "受理")
    await harness.staff_reply(RIGHTS, card["message_id"], "/close")
    assert "只用于结束人工咨询" in harness.last(RIGHTS)["text"]


async def test_departments_and_assignees_bound_who_acts(harness: Harness) -> None:
    _roster(harness, ORGANIZER, "组织部", StaffRole.HANDLER)
    _roster(harness, COLLEAGUE, "权益保障部", StaffRole.HANDLER)
    _roster(harness, LEAD, "权益保障部", StaffRole.LEAD)
    number = await _file_service_card(harness)
    card = _card(harness, RIGHTS, number)
    await harness.press_on(RIGHTS, card["message_id"], "受理", user=ORGANIZER)
    assert "由权益保障部办理" in harness.alerts()[-1]
    await harness.press_on(RIGHTS, card["message_id"], "受理")
    # A colleague may answer the member, but not complete someone else's case.
    await harness.press_on(RIGHTS, card["message_id"], "办结", user=COLLEAGUE)
    assert "测试干事 经办" in harness.alerts()[-1]
    # Only a lead reassigns, to someone of the department.
    await harness.press_on(RIGHTS, card["message_id"], "改派经办人", user=COLLEAGUE)
    assert "负责人" in harness.alerts()[-1]
    await harness.press_on(RIGHTS, card["message_id"], "改派经办人", user=LEAD)
    picker = harness.fake.message(RIGHTS, card["message_id"])
    names = [b["text"] for row in picker["reply_markup"]["inline_keyboard"] for b in row]  # type: ignore[index]
    assert "同事" in names and "组织部 干事" not in names
    await harness.press_on(RIGHTS, card["message_id"], "同事", user=LEAD)
    assert _case(harness, number).assignee_telegram_id == COLLEAGUE.id
    assert "经办人：同事" in _card(harness, RIGHTS, number)["text"]
    await harness.press_on(RIGHTS, card["message_id"], "办结", user=COLLEAGUE)
    assert "办理结果" in harness.last(RIGHTS)["text"]


async def test_transfer_moves_the_card_to_the_other_department(harness: Harness) -> None:
    number = await _file_service_card(harness)
    card = _card(harness, RIGHTS, number)
    await harness.press_on(RIGHTS, card["message_id"], "转派")
    await harness.press_on(RIGHTS, card["message_id"], "组织部")
    moved = harness.fake.message(RIGHTS, card["message_id"])
    assert "已转派至组织部" in moved["text"] and not moved.get("reply_markup")  # type: ignore[index]
    case = _case(harness, number)
    assert case.department == "组织部" and case.status is CaseStatus.OPEN
    assert case.staff_chat_id == ORGANIZATION
    new_card = _card(harness, ORGANIZATION, number)
    assert "部门：组织部" in new_card["text"] and "受理" in str(new_card["reply_markup"])
    assert "已转至组织部办理" in harness.last(harness.member.id)["text"]
    # Sent on to the general chat: a case of no department, which any staffer may take.
    await harness.press_on(ORGANIZATION, new_card["message_id"], "转派")
    await harness.press_on(ORGANIZATION, new_card["message_id"], "综合工作群")
    assert _case(harness, number).staff_chat_id == GENERAL


async def test_full_information_needs_a_private_chat(harness: Harness) -> None:
    number = await _file_service_card(harness)
    card = _card(harness, RIGHTS, number)
    await harness.press_on(RIGHTS, card["message_id"], "查看完整信息")
    told = harness.last(RIGHTS)
    assert "先点下方按钮私聊机器人" in told["text"]
    assert told["reply_markup"]["inline_keyboard"][0][0]["url"].endswith("?start=staff")
    id_number = _case(harness, number).answers["id_number"]  # type: ignore[index]
    assert id_number not in told["text"]
    assert "viewed_full" not in _events(harness), "no view happened, none is logged"
    _started_privately(harness, harness.staffer)
    await harness.press_on(RIGHTS, card["message_id"], "查看完整信息")
    private = harness.last(harness.staffer.id)
    assert id_number in private["text"] and private.get("has_protected_content")
    assert _events(harness)[-1] == "viewed_full"


async def test_a_prompt_belongs_to_the_staffer_who_pressed(harness: Harness) -> None:
    _roster(harness, COLLEAGUE, ALL_DEPARTMENTS, StaffRole.LEAD)
    number = await _file_service_card(harness)
    card = _card(harness, RIGHTS, number)
    await harness.press_on(RIGHTS, card["message_id"], "受理")
    await harness.press_on(RIGHTS, card["message_id"], "驳回")
    prompt = harness.last(RIGHTS)
    other = await harness.staff_reply(RIGHTS, prompt["message_id"], "不符合", user=COLLEAGUE)
    assert "这条提示是给 测试干事 的" in other["text"]
    answer = await harness.staff_reply(RIGHTS, prompt["message_id"], "您已退休，不在办理范围内")
    assert "已驳回" in answer["text"]
    again = await harness.staff_reply(RIGHTS, prompt["message_id"], "再驳回一次")
    assert "已经用过了" in again["text"]
    rejected = harness.texts(harness.member.id)[-2]
    assert "未能通过" in rejected and "您已退休" in rejected
    assert _case(harness, number).status is CaseStatus.REJECTED


async def test_a_members_reply_to_a_staff_message_reaches_its_case(harness: Harness) -> None:
    number = await _file_service_card(harness)
    card = _card(harness, RIGHTS, number)
    await harness.press_on(RIGHTS, card["message_id"], "受理")
    await harness.staff_reply(RIGHTS, card["message_id"], "请问您的工号是多少？")
    question = harness.last(harness.member.id)
    await harness.process(
        harness.fake.user_message(
            harness.member,
            text="工号 A1023",
            reply_to_message_id=question["message_id"],
            enqueue=False,
        )
    )
    assert "已转给经办工作人员" in harness.last(harness.member.id)["text"]
    assert "工号 A1023" in harness.last(RIGHTS)["text"]
    with Session(harness.engine) as session:
        cases = session.exec(select(Case)).all()
    assert len(cases) == 1, "no new consultation is opened for it"
    # A plain text a while later is theirs to route again, with a way out right away.
    await harness.press("不是给工作人员的")
    assert "办理流程" in (await harness.say("会员卡怎么办理"))["text"]
