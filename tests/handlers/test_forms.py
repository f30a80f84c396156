"""Every application, filled in end to end through the real Application and a fake Telegram."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from typing import Any

import pytest
from sqlmodel import Session, select

from bot import texts
from bot.applications import Applications
from bot.fake import FakeUser, make_jpeg
from bot.services import SERVICES_KEY, Services
from knowledge.forms import FieldType, Form, FormField
from storage.crypto import decrypt_bytes
from storage.models import Attachment, Case, CaseStatus, Draft, DraftStage
from tests.factories import make_card_number, make_id_number, make_mobile, make_uscc
from tests.handlers.conftest import DEMOCRATIC, ORGANIZATION, PUBLICITY, RIGHTS, Harness

NUMBER = re.compile(r"HD-\d{4}-\d{6}")
DEPARTMENT_CHATS = {
    "组织部": ORGANIZATION,
    "民主管理部": DEMOCRATIC,
    "权益保障部": RIGHTS,
    "宣传教育部": PUBLICITY,
}


def _svc(harness: Harness) -> Services:
    svc = harness.app.bot_data[SERVICES_KEY]
    assert isinstance(svc, Services)
    return svc


def _draft(harness: Harness, user: FakeUser | None = None) -> Draft | None:
    user = user or harness.member
    with Session(harness.engine) as session:
        drafts = session.exec(select(Draft).order_by(Draft.id.desc())).all()  # type: ignore[union-attr]
        from storage.models import Member

        member = session.exec(select(Member).where(Member.telegram_id == user.id)).first()
        return next((d for d in drafts if member and d.member_id == member.id), None)


def _buttons(message: dict[str, Any]) -> list[str]:
    keyboard = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button["text"] for row in keyboard for button in row]


def _text_for(field: FormField, person: int) -> str:
    """A valid answer, typed the way a member would."""
    if field.type is FieldType.NAME:
        return "张测试"
    if field.type is FieldType.ID_NUMBER:
        return make_id_number(date(1980 + person, 3, 9), sequence=100 + person)
    if field.type is FieldType.PHONE:
        return make_mobile(person)
    if field.type is FieldType.USCC:
        return make_uscc(person + 1)
    if field.type is FieldType.CARD_NUMBER:
        return make_card_number(person)
    if field.type is FieldType.NUMBER:
        low = int(field.minimum or 0)
        return str(max(low, 1) if field.maximum is None or field.maximum >= 1 else low)
    if field.type is FieldType.DATE:
        return date.today().isoformat()
    if field.type is FieldType.LONG_TEXT:
        return "测试说明：车间通风设备损坏，需要维修。" * max(1, field.min_length // 10 + 1)
    return f"测试{field.label}" + "一" * max(0, field.min_length - 2 - len(field.label))


async def fill(
    harness: Harness,
    form: Form,
    *,
    user: FakeUser | None = None,
    person: int = 0,
    yes: bool = True,
    until: str | None = None,
    typed: bool = False,
) -> dict[str, Any]:
    """Answer every field the form asks, as buttons where it offers them; ends at the summary
    (or when the field `until` is asked).

    typed=True types every button instead, in the words members use (是啊, 不匿名, the
    option's own name, 传完了, 没有 …), and checks that each typed answer moves the form on."""
    user = user or harness.member
    words = _TypedWords() if typed else None
    for _ in range(60):
        draft = _draft(harness, user)
        assert draft is not None
        if until is not None and draft.current_field == until:
            return harness.last(user.id)
        if draft.stage is DraftStage.REVIEW:
            return harness.last(user.id)
        assert draft.stage is DraftStage.FILLING, draft.stage
        field = form.field(draft.current_field or "")
        if words is not None and field.type is not FieldType.UPLOAD:
            answer = words.answer(field, yes=yes, person=person)
            await harness.say(answer, user)
            moved = _draft(harness, user)
            assert moved is not None
            assert (moved.stage, moved.current_field) != (DraftStage.FILLING, field.id), (
                f"{form.id}.{field.id}: typed {answer!r} got {harness.last(user.id).get('text')!r}"
            )
            continue
        if field.type is FieldType.YESNO:
            wanted = yes if field.id == "anonymous" else True
            await harness.press("是" if wanted else "否", user)
        elif field.type is FieldType.CHOICE:
            await harness.press(f"1. {field.options[0]}", user)
        elif field.type is FieldType.MULTI:
            await harness.press(field.options[0], user)
            await harness.press(field.options[-1], user)  # 其他: shows its follow-up field
            await harness.press("完成", user)
        elif field.type is FieldType.UPLOAD:
            if words is not None and field.min_count == 0:
                await harness.say(words.next(texts.BUTTON_SKIP), user)
                assert _draft(harness, user).current_field != field.id  # type: ignore[union-attr]
                continue
            if "photo" in field.kinds:
                update = harness.fake.user_message(
                    user, photo=make_jpeg(640, 480, comment=f"{form.id}-{person}"), enqueue=False
                )
            else:
                update = harness.fake.user_message(
                    user,
                    document=(
                        "申请书.pdf",
                        b"%PDF-1.4 synthetic " + form.id.encode(),
                        "application/pdf",
                    ),
                    enqueue=False,
                )
            await harness.process(update)
            if _draft(harness, user).current_field == field.id:  # type: ignore[union-attr]
                if words is not None:
                    await harness.say(words.next(texts.BUTTON_DONE_UPLOADING), user)
                    assert _draft(harness, user).current_field != field.id  # type: ignore[union-attr]
                else:
                    await harness.press("完成", user)
        else:
            await harness.say(_text_for(field, person), user)
    raise AssertionError("the form never reached its summary")


class _TypedWords:
    """The words members type for each button, taken in turn from the one synonym table the
    bot reads (bot.texts.BUTTON_WORDS), so every form meets many of them."""

    def __init__(self) -> None:
        self._turn: dict[str, int] = {}

    def next(self, label: str) -> str:
        choices = texts.BUTTON_WORDS[label]
        turn = self._turn.get(label, 0)
        self._turn[label] = turn + 1
        return choices[turn % len(choices)]

    def answer(self, field: FormField, *, yes: bool, person: int) -> str:
        if field.type is FieldType.YESNO:
            wanted = yes if field.id == "anonymous" else True
            if field.id == "anonymous" and not wanted:
                return "不匿名"
            return self.next(texts.BUTTON_YES if wanted else texts.BUTTON_NO)
        if field.type is FieldType.CHOICE:
            return field.options[0]  # the option's own words, never its number
        if field.type is FieldType.MULTI:
            return f"{field.options[0]}、{field.options[-1]}"
        return _text_for(field, person)


async def start(harness: Harness, form: Form, user: FakeUser | None = None) -> dict[str, Any]:
    user = user or harness.member
    await harness.say("/apply", user)
    await harness.press(form.title, user)
    privacy = harness.last(user.id)
    assert "个人信息告知" in privacy["text"]
    await harness.press("同意并开始填写", user)
    if "同意处理上述敏感个人信息" in _buttons(harness.last(user.id)):
        await harness.press("同意处理上述敏感个人信息", user)  # health data: its own consent
    return privacy


def _forms(harness: Harness) -> dict[str, Form]:
    return _svc(harness).applications.forms


FORM_IDS = [
    "service_card",
    "service_card_review",
    "hardship_aid",
    "model_worker_aid",
    "union_founding",
    "legal_person",
    "model_worker_nomination",
    "safety_report",
]


@pytest.mark.parametrize("form_id", FORM_IDS)
async def test_every_form_end_to_end(harness: Harness, form_id: str) -> None:
    form = _forms(harness)[form_id]
    duty = _svc(harness).catalogue.duty(form.duty)
    await start(harness, form)
    summary = await fill(harness, form)
    assert summary["text"].startswith(f"请核对您的《{form.title}》")
    filed = await harness.press("提交")
    number = NUMBER.search(filed["text"])
    assert number, filed["text"]
    assert "接下来" in filed["text"] and "/mycases" in filed["text"]
    # What happens next for the member (the form's own words), not the union's internal steps.
    assert form.next_steps.replace("{department}", duty.department) in filed["text"]
    internal = [step for p in duty.procedures for step in p.steps if len(step) >= 4]
    assert not any(step in filed["text"] for step in internal)
    assert duty.contact.phone in filed["text"]

    staff_chat = DEPARTMENT_CHATS[duty.department]
    staff = harness.fake.bot_messages(staff_chat)
    card = next(m for m in staff if m.get("text", "").startswith(f"申请 {number.group()}"))
    assert card["text"].startswith(f"申请 {number.group()} · 已提交")
    assert card.get("has_protected_content"), "cards cannot be forwarded"
    assert form.title in card["text"]
    with Session(harness.engine) as session:
        case = session.exec(select(Case).where(Case.number == number.group())).one()
        attachments = session.exec(select(Attachment).where(Attachment.case_id == case.id)).all()
    assert case.status is CaseStatus.OPEN and case.form_id == form_id
    assert case.department == duty.department
    uploads = [f for f in form.fields if f.type is FieldType.UPLOAD and case.answers.get(f.id)]  # type: ignore[union-attr]
    assert len(attachments) == sum(len(case.answers[f.id]) for f in uploads)  # type: ignore[index]
    copies = [m for m in staff if "photo" in m or "document" in m]
    assert copies == [], "attachments are sent on request to a staffer, never to the group"
    assert (f"附件：{len(attachments)} 个" if attachments else "附件：无") in card["text"]
    for attachment in attachments:
        stored = _svc(harness).files_dir / attachment.path
        content = decrypt_bytes(stored.read_bytes())  # encrypted on disk
        assert content != stored.read_bytes() and len(content) == attachment.size
        assert hashlib.sha256(content).hexdigest() == attachment.sha256
    # Personal data on the card is masked.
    for field in form.fields:
        value = (case.answers or {}).get(field.id)
        if field.type in (FieldType.ID_NUMBER, FieldType.PHONE, FieldType.CARD_NUMBER) and value:
            digits = str(value).removeprefix("+86")
            assert digits not in card["text"], f"{field.id} is masked on the card"


async def test_the_service_card_card_masks_id_and_phone(harness: Harness) -> None:
    form = _forms(harness)["service_card"]
    await start(harness, form)
    await fill(harness, form, person=3)
    await harness.press("提交")
    card = next(
        m for m in harness.fake.bot_messages(RIGHTS) if m.get("text", "").startswith("申请 HD-")
    )
    id_number = make_id_number(date(1983, 3, 9), sequence=103)
    assert id_number not in card["text"]
    assert id_number[:3] in card["text"] and id_number[-4:] in card["text"]
    assert make_mobile(3) not in card["text"]
    assert "测试会员" in card["text"], "staff see who applied"


async def test_anonymous_safety_report_hides_the_reporter(harness: Harness) -> None:
    form = _forms(harness)["safety_report"]
    await start(harness, form)
    await fill(harness, form, yes=True)  # anonymous: 是
    draft = _draft(harness)
    assert draft is not None and "reporter_name" not in draft.answers
    await harness.press("提交")
    card = next(
        m
        for m in harness.fake.bot_messages(DEMOCRATIC)
        if m.get("text", "").startswith("申请 HD-")
    )
    assert "匿名" in card["text"]
    assert "测试会员" not in card["text"]


async def test_named_safety_report_asks_for_name_and_phone(harness: Harness) -> None:
    form = _forms(harness)["safety_report"]
    await start(harness, form)
    await fill(harness, form, yes=False)
    draft = _draft(harness)
    assert draft is not None and draft.answers.get("reporter_name") == "张测试"


async def test_refusing_consent_collects_nothing(harness: Harness) -> None:
    form = _forms(harness)["hardship_aid"]
    await harness.say("/apply")
    await harness.press(form.title)
    privacy = harness.last(harness.member.id)
    assert "敏感个人信息" in privacy["text"], "health data needs its own consent"
    refused = await harness.press("不同意")
    assert "不会收集" in refused["text"]
    draft = _draft(harness)
    assert draft is not None and draft.stage is DraftStage.DISCARDED and draft.answers == {}


async def test_retirees_are_told_politely_they_are_not_eligible(harness: Harness) -> None:
    form = _forms(harness)["service_card"]
    await start(harness, form)
    refused = await harness.press("否")
    assert "退休" in refused["text"]
    assert _draft(harness).stage is DraftStage.DISCARDED  # type: ignore[union-attr]


async def test_bad_answers_get_a_retry_that_says_what_is_wrong(harness: Harness) -> None:
    form = _forms(harness)["service_card"]
    await start(harness, form)
    await harness.press("是")
    await harness.say("张测试")
    wrong = make_id_number()[:-1] + ("0" if make_id_number()[-1] != "0" else "1")
    retry = await harness.say(wrong)
    assert "校验位" in retry["text"]
    assert _draft(harness).current_field == "id_number"  # type: ignore[union-attr]
    await harness.say(make_id_number())
    retry = await harness.say("12345")
    assert "手机" in retry["text"] or "号码" in retry["text"]
    draft = _draft(harness)
    assert draft is not None and draft.answers["id_number"] == make_id_number()


async def test_back_goes_to_the_previous_field_and_keeps_its_answer(harness: Harness) -> None:
    form = _forms(harness)["service_card"]
    await start(harness, form)
    await harness.press("是")
    await harness.say("张测试")
    back = await harness.press("« 上一项")
    assert "姓名" in back["text"] and "当前填写：张测试" in back["text"]
    await harness.press("保持不变")
    assert _draft(harness).current_field == "id_number"  # type: ignore[union-attr]
    await harness.press("« 上一项")
    await harness.say("李测试")
    draft = _draft(harness)
    assert draft is not None and draft.answers["name"] == "李测试"
    assert draft.current_field == "id_number"


async def test_change_one_field_from_the_summary_then_submit(harness: Harness) -> None:
    form = _forms(harness)["union_founding"]
    await start(harness, form)
    await fill(harness, form)
    await harness.press("修改")
    await harness.press(form.field("employees").label)
    summary = await harness.say("３０人")
    assert summary["text"].startswith("请核对")
    assert "30" in summary["text"]
    filed = await harness.press("提交")
    assert NUMBER.search(filed["text"])


async def test_submit_twice_files_one_case(harness: Harness) -> None:
    form = _forms(harness)["union_founding"]
    await start(harness, form)
    summary = await fill(harness, form)
    keyboard = summary["reply_markup"]["inline_keyboard"]
    submit = next(b["callback_data"] for row in keyboard for b in row if b["text"] == "提交")
    press = harness.fake.press_button(
        harness.member, harness.member.id, summary["message_id"], submit, enqueue=False
    )
    await harness.process(press)
    await harness.process(press)  # the same update delivered twice
    await harness.process(
        harness.fake.press_button(
            harness.member, harness.member.id, summary["message_id"], submit, enqueue=False
        )
    )  # a double tap
    with Session(harness.engine) as session:
        assert len(session.exec(select(Case)).all()) == 1
    cards = [
        m
        for m in harness.fake.bot_messages(ORGANIZATION)
        if m.get("text", "").startswith("申请 HD-")
    ]
    assert len(cards) == 1
    # Each press is answered with the number: one whose answer was lost (a crash between
    # filing and replying) is not left believing nothing happened.
    said = [m["text"] for m in harness.fake.bot_messages(harness.member.id)[-3:]]
    number = said[0][said[0].index("HD-") :][:14]
    assert "已提交" in said[0]
    assert all("已经提交过了" in text and number in text for text in said[1:])


async def test_cancel_at_any_point_deletes_the_draft(harness: Harness) -> None:
    form = _forms(harness)["hardship_aid"]
    await start(harness, form)
    await harness.say("张测试")
    cancelled = await harness.say("/cancel")
    assert "已取消" in cancelled["text"]
    draft = _draft(harness)
    assert draft is not None and draft.stage is DraftStage.DISCARDED and draft.answers == {}
    # The router answers again.
    assert "办理流程" in (await harness.say("会员卡怎么办理"))["text"]


async def test_a_form_starts_from_a_routed_answer(harness: Harness) -> None:
    answer = await harness.say("会员服务卡怎么办理")
    assert any(label.startswith("在线申请") for label in _buttons(answer))
    await harness.press("在线申请：" + _forms(harness)["service_card"].button)
    assert "个人信息告知" in harness.last(harness.member.id)["text"]


async def test_upload_limits(harness: Harness) -> None:
    form = _forms(harness)["service_card"]
    await start(harness, form)
    await harness.press("是")
    await harness.say("张测试")
    await harness.say(make_id_number())
    await harness.say(make_mobile())
    await harness.say("测试单位")
    await harness.say("测试单位工会")
    assert _draft(harness).current_field == "id_card_photo"  # type: ignore[union-attr]
    early = await harness.press("完成")
    assert "至少" in early["text"] or "上传" in early["text"]
    text = await harness.say("我没有照片")
    assert "照片或文件" in text["text"]
    big = harness.fake.user_message(
        harness.member,
        document=("证件.pdf", b"%PDF-1.4 x", "application/pdf"),
        file_size=21 * 1024 * 1024,
        enqueue=False,
    )
    await harness.process(big)
    assert "MB" in harness.last(harness.member.id)["text"]
    exe = harness.fake.user_message(
        harness.member, document=("a.exe", b"MZ...", "application/x-msdownload"), enqueue=False
    )
    await harness.process(exe)
    draft = _draft(harness)
    assert draft is not None and not draft.answers.get("id_card_photo")


async def test_a_restart_resumes_the_member_where_they_were(
    harness: Harness, tmp_path: Any, router: Any
) -> None:
    from bot.app import build_application, startup
    from bot.fake import FakeRequest
    from tests.handlers.conftest import harness_settings

    form = _forms(harness)["service_card"]
    await start(harness, form)
    await harness.press("是")
    await harness.say("张测试")
    # A second bot process on the same database (or the same bot after a restart).
    second = build_application(
        harness_settings(tmp_path),
        request=FakeRequest(harness.fake),
        router=router,
        engine=harness.engine,
    )
    async with second:
        await startup(second)
        other = Harness(second, harness.fake, harness.engine)
        asked = await other.say(make_id_number())
        assert "手机" in asked["text"]
    draft = _draft(harness)
    assert draft is not None and draft.answers["name"] == "张测试"
    assert draft.answers["id_number"] == make_id_number()


async def test_two_members_filling_the_same_form_never_mix(harness: Harness) -> None:
    form = _forms(harness)["service_card"]
    other = FakeUser(id=700002, first_name="另一位")
    await start(harness, form)
    await start(harness, form, user=other)
    await harness.press("是")
    await harness.press("是", other)
    await harness.say("张测试")
    await harness.say("王另一", other)
    await harness.say(make_id_number(sequence=1))
    await harness.say(make_id_number(sequence=2), other)
    mine, theirs = _draft(harness), _draft(harness, other)
    assert mine is not None and theirs is not None and mine.id != theirs.id
    assert mine.answers["name"] == "张测试" and theirs.answers["name"] == "王另一"
    assert mine.answers["id_number"] != theirs.answers["id_number"]
    # A member pressing a button of another member's draft gets nothing.
    summary_data = f"fm:{theirs.id}:X"
    await harness.process(
        harness.fake.press_button(
            harness.member,
            harness.member.id,
            harness.last(harness.member.id)["message_id"],
            summary_data,
            enqueue=False,
        )
    )
    assert harness.fake.callback_answers[-1]["text"].startswith("这个按钮已过期")
    assert _draft(harness, other).stage is DraftStage.FILLING  # type: ignore[union-attr]


async def test_mycases_lists_and_withdraws_only_the_members_own(harness: Harness) -> None:
    form = _forms(harness)["union_founding"]
    await start(harness, form)
    await fill(harness, form)
    filed = await harness.press("提交")
    number = NUMBER.search(filed["text"]).group()  # type: ignore[union-attr]
    listing = await harness.say("/mycases")
    assert any(number in label and "已提交" in label for label in _buttons(listing))
    detail = await harness.press(number + " " + form.title[:16] + " · 已提交")
    assert "状态：已提交" in detail["text"]
    await harness.press("撤回申请")
    done = await harness.press("确定撤回")
    assert "已撤回" in done["text"]
    assert "会员已撤回" in harness.last(ORGANIZATION)["text"]
    with Session(harness.engine) as session:
        case = session.exec(select(Case)).one()
    assert case.status is CaseStatus.WITHDRAWN

    stranger = FakeUser(id=700003, first_name="陌生人")
    assert "还没有" in (await harness.say("/mycases", stranger))["text"]
    await harness.process(
        harness.fake.press_button(stranger, stranger.id, 1, f"case:{case.id}", enqueue=False)
    )
    assert harness.fake.callback_answers[-1]["text"].startswith("这个按钮已过期")


async def test_drafts_are_reminded_then_expire(harness: Harness) -> None:
    from datetime import timedelta

    from bot.app import sweep_drafts
    from storage.models import utcnow

    form = _forms(harness)["service_card"]
    await start(harness, form)
    await harness.press("是")
    await harness.say("张测试")
    svc = _svc(harness)
    with Session(harness.engine) as session:
        draft = session.exec(select(Draft)).one()
        draft.updated_at = utcnow() - timedelta(days=6, hours=1)
        session.add(draft)
        session.commit()
    assert sweep_drafts(svc) == (1, 0)
    await svc.postman.flush(harness.app.bot)
    assert "将于" in harness.last(harness.member.id)["text"]
    assert sweep_drafts(svc) == (0, 0), "one reminder only"
    with Session(harness.engine) as session:
        draft = session.exec(select(Draft)).one()
        draft.updated_at = utcnow() - timedelta(days=8)
        session.add(draft)
        session.commit()
    assert sweep_drafts(svc) == (0, 1)
    await svc.postman.flush(harness.app.bot)
    assert "已删除" in harness.last(harness.member.id)["text"]
    expired = _draft(harness)
    assert expired is not None and expired.stage is DraftStage.EXPIRED and expired.answers == {}


async def test_returning_after_a_pause_is_offered_continue_or_discard(harness: Harness) -> None:
    from datetime import timedelta

    from storage.models import utcnow

    form = _forms(harness)["service_card"]
    await start(harness, form)
    await harness.press("是")
    with Session(harness.engine) as session:
        draft = session.exec(select(Draft)).one()
        draft.updated_at = utcnow() - timedelta(days=2)
        session.add(draft)
        session.commit()
    offer = await harness.say("张测试")
    assert "未完成" in offer["text"]
    asked = await harness.press("继续填写")
    assert "姓名" in asked["text"]
    await harness.say("张测试")
    assert _draft(harness).answers["name"] == "张测试"  # type: ignore[union-attr]


def test_applications_know_every_form(harness: Harness) -> None:
    apps: Applications = _svc(harness).applications
    assert sorted(apps.forms) == sorted(FORM_IDS)


async def test_the_menu_offers_applications_and_start_offers_a_draft(harness: Harness) -> None:
    await harness.say("/menu")
    listing = await harness.press("在线申请")
    assert "可以在线办理的申请" in listing["text"]
    await harness.press(_forms(harness)["hardship_aid"].title)
    await harness.press("同意并开始填写")
    await harness.say("/start")
    offer = harness.last(harness.member.id)
    assert "未完成的《困难职工帮扶申请》" in offer["text"] or "未完成" in offer["text"]
    discarded = await harness.press("放弃申请")
    assert "已取消" in discarded["text"]


async def test_human_mid_form_files_a_consultation_and_keeps_the_draft(harness: Harness) -> None:
    form = _forms(harness)["service_card"]
    await start(harness, form)
    await harness.press("是")
    asked = await harness.say("/human")
    assert "描述您要咨询的问题" in asked["text"]
    done = await harness.say("我想问一下会员卡多久能办好")
    assert NUMBER.search(done["text"]) and "草稿已保存" in done["text"]
    draft = _draft(harness)
    assert draft is not None and "name" not in draft.answers, "the question is not a name"
    assert "多久能办好" in harness.last(RIGHTS)["text"]
    relayed = await harness.say("另外年审什么时候")
    assert "已转给工作人员" in relayed["text"]
    # Back to the form: the text is an answer again.
    await harness.say("/apply")
    await harness.press("继续填写")
    await harness.say("张测试")
    assert _draft(harness).answers["name"] == "张测试"  # type: ignore[union-attr]


async def test_cancel_after_human_only_cancels_the_handoff(harness: Harness) -> None:
    await harness.say("/human")
    cancelled = await harness.say("/cancel")
    assert "已取消转人工" in cancelled["text"]
    answer = await harness.say("你好")
    assert "有什么可以帮您" in answer["text"]
    with Session(harness.engine) as session:
        assert session.exec(select(Case)).all() == []


async def test_health_data_needs_its_own_consent_which_is_recorded(harness: Harness) -> None:
    form = _forms(harness)["hardship_aid"]
    await harness.say("/apply")
    await harness.press(form.title)
    second = await harness.press("同意并开始填写")
    assert "单独同意" in second["text"]
    refused = await harness.press("不同意")
    assert "不会收集" in refused["text"]
    assert _draft(harness).stage is DraftStage.DISCARDED  # type: ignore[union-attr]

    await start(harness, form)  # both consents this time
    await fill(harness, form)
    await harness.press("提交")
    from storage.models import CaseEvent

    with Session(harness.engine) as session:
        filed = session.exec(select(CaseEvent).where(CaseEvent.action == "filed")).one()
    assert filed.detail["consented_at"] and filed.detail["sensitive_consented_at"]
    assert len(filed.detail["privacy_notice"]) == 12


async def test_submitting_leaves_no_personal_data_on_the_draft(harness: Harness) -> None:
    form = _forms(harness)["safety_report"]
    await start(harness, form)
    await fill(harness, form, yes=False)  # named first …
    await harness.press("修改")
    await harness.press(form.field("anonymous").label)
    await harness.press("是")  # … then anonymous: the name and phone must not be kept
    await harness.press("提交")
    draft = _draft(harness)
    assert draft is not None and draft.stage is DraftStage.SUBMITTED and draft.answers == {}
    with Session(harness.engine) as session:
        case = session.exec(select(Case)).one()
    assert "reporter_name" not in (case.answers or {})
    assert "reporter_phone" not in (case.answers or {})


async def test_editing_an_upload_keeps_the_files_until_new_ones_arrive(harness: Harness) -> None:
    form = _forms(harness)["service_card"]
    await start(harness, form)
    await fill(harness, form)
    await harness.press("修改")
    await harness.press(form.field("id_card_photo").label)
    kept = await harness.press("保持不变")
    assert kept["text"].startswith("请核对") and "1 个文件" in kept["text"]
    await harness.press("修改")
    await harness.press(form.field("id_card_photo").label)
    await harness.process(
        harness.fake.user_message(harness.member, photo=make_jpeg(300, 200), enqueue=False)
    )
    await harness.press("完成")
    await harness.press("提交")
    with Session(harness.engine) as session:
        attachments = session.exec(select(Attachment)).all()
    assert len(attachments) == 1, "the replaced photo is gone"
    assert attachments[0].case_id is not None


async def test_multiple_choice_ticks_show_the_saved_answer(harness: Harness) -> None:
    form = _forms(harness)["hardship_aid"]
    await start(harness, form)
    await fill(harness, form)
    await harness.press("修改")
    edit = await harness.press(form.field("causes").label)
    ticked = [label for label in _buttons(edit) if label.startswith("✅")]
    assert ticked == [
        f"✅ {form.field('causes').options[0]}",
        f"✅ {form.field('causes').options[-1]}",
    ]


async def test_typed_navigation_words(harness: Harness) -> None:
    form = _forms(harness)["service_card"]
    await start(harness, form)
    await harness.press("是")
    await harness.say("张测试")
    back = await harness.say("上一项")
    assert "姓名" in back["text"]
    cancelled = await harness.say("取消")
    assert "已取消" in cancelled["text"]


async def test_a_huge_wrong_answer_gets_a_short_retry(harness: Harness) -> None:
    form = _forms(harness)["hardship_aid"]
    await start(harness, form)
    await fill(harness, form, until="household_size")
    retry = await harness.say("甲" * 4096)
    assert len(retry["text"]) < 1500
    assert _draft(harness).current_field == "household_size", "still asked"  # type: ignore[union-attr]


async def test_the_same_photo_twice_is_kept_once(harness: Harness) -> None:
    form = _forms(harness)["hardship_aid"]
    await start(harness, form)
    await fill(harness, form, until="documents")
    update = harness.fake.user_message(harness.member, photo=make_jpeg(320, 240), enqueue=False)
    await harness.process(update)
    await harness.process(update)  # delivered twice
    assert "已经收到过" in harness.last(harness.member.id)["text"]
    assert len(_draft(harness).answers["documents"]) == 1  # type: ignore[union-attr]


async def test_a_reminder_again_after_the_member_carries_on(harness: Harness) -> None:
    from datetime import timedelta

    from bot.app import sweep_drafts
    from storage.models import utcnow

    form = _forms(harness)["service_card"]
    await start(harness, form)
    svc = _svc(harness)

    def age(days: float) -> None:
        with Session(harness.engine) as session:
            draft = session.exec(select(Draft)).one()
            draft.updated_at = utcnow() - timedelta(days=days)
            session.add(draft)
            session.commit()

    age(6.5)
    assert sweep_drafts(svc) == (1, 0)
    await harness.press("是")  # the member carries on: a new deadline
    age(6.5)
    assert sweep_drafts(svc) == (1, 0), "reminded again before the new deadline"


def test_two_processes_saving_one_draft_do_not_lose_an_answer(harness: Harness) -> None:
    from sqlalchemy.orm.exc import StaleDataError

    from storage.db import in_session

    form = _forms(harness)["service_card"]
    apps = _svc(harness).applications
    with Session(harness.engine) as session:
        from storage.models import Member

        member = Member(telegram_id=1234, chat_id=1234)
        session.add(member)
        session.commit()
        draft = Draft(member_id=member.id or 0, form_id=form.id, stage=DraftStage.FILLING)
        session.add(draft)
        session.commit()
        draft_id = draft.id
    with Session(harness.engine) as first, Session(harness.engine) as second:
        a, b = first.get(Draft, draft_id), second.get(Draft, draft_id)
        assert a is not None and b is not None
        a.answers = {**a.answers, "in_service": True}
        first.add(a)
        first.commit()
        b.answers = {**b.answers, "name": "张测试"}
        second.add(b)
        with pytest.raises(StaleDataError):
            second.commit()  # b was read before a's save: refused, not overwritten

    def save_name(session: Session) -> None:
        stored = session.get(Draft, draft_id)
        assert stored is not None
        stored.answers = {**stored.answers, "name": "张测试"}
        session.add(stored)

    in_session(harness.engine, save_name)
    with Session(harness.engine) as session:
        assert session.get(Draft, draft_id).answers == {"in_service": True, "name": "张测试"}  # type: ignore[union-attr]
    assert apps.forms["service_card"].id == "service_card"


async def test_closed_cases_lose_their_content_after_the_keeping_time(harness: Harness) -> None:
    from datetime import timedelta

    from bot.app import purge_orphan_files, sweep_drafts
    from storage.models import CaseEvent, utcnow

    form = _forms(harness)["service_card"]
    await start(harness, form)
    await fill(harness, form)
    filed = await harness.press("提交")
    number = NUMBER.search(filed["text"]).group()  # type: ignore[union-attr]
    await harness.say("/mycases")
    await harness.press(f"{number} {form.title[:16]} · 已提交")
    await harness.press("撤回申请")
    await harness.press("确定撤回")
    svc = _svc(harness)
    sweep_drafts(svc)
    with Session(harness.engine) as session:
        case = session.exec(select(Case)).one()
        assert case.answers, "kept while within the keeping time"
        case.closed_at = utcnow() - timedelta(days=3 * 365 + 1)
        session.add(case)
        session.commit()
    sweep_drafts(svc)
    with Session(harness.engine) as session:
        case = session.exec(select(Case)).one()
        assert case.answers is None and case.number == number
        assert case.member_label is None and case.rating_comment is None
        assert session.exec(select(Attachment)).all() == []
        events = session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()
        assert all(not e.detail for e in events) and events[-1].action == "purged"
        assert purge_orphan_files(session, svc.files_dir, grace=0) == 1


async def test_a_member_may_have_name_phone_and_unit_remembered(harness: Harness) -> None:
    form = _forms(harness)["service_card"]
    await start(harness, form)
    await fill(harness, form)
    filed = await harness.press("提交")
    assert "自动填入" in filed["text"]
    saved = await harness.press("好的，记住")
    assert "已保存" in saved["text"]
    assert NUMBER.search(harness.fake.message(harness.member.id, filed["message_id"])["text"])  # type: ignore[index]

    shown = await harness.say("/profile")
    assert "张测试" in shown["text"] and "身份证" not in shown["text"]

    review = _forms(harness)["service_card_review"]
    await start(harness, review)
    await harness.press("是")
    asked = harness.last(harness.member.id)
    assert "使用已保存的：张测试" in _buttons(asked)
    await harness.press("使用已保存的：张测试")
    assert _draft(harness).answers["name"] == "张测试"  # type: ignore[union-attr]
    await harness.say("/cancel")

    await harness.say("/profile")
    deleted = await harness.press("删除我保存的资料")
    assert "已删除" in deleted["text"]
    await start(harness, review)
    await harness.press("是")
    assert not any(b.startswith("使用已保存的") for b in _buttons(harness.last(harness.member.id)))


async def test_two_processes_submitting_one_draft_file_one_case(harness: Harness) -> None:
    """Both hold the draft at the summary; one files, the other finds that case."""
    from storage.db import in_session
    from storage.models import Member

    form = _forms(harness)["union_founding"]
    await start(harness, form)
    await fill(harness, form)
    apps = _svc(harness).applications
    draft_id = _draft(harness).id  # type: ignore[union-attr]
    with Session(harness.engine) as late:  # the second process read the draft already
        stale = late.get(Draft, draft_id)
        assert stale is not None and stale.stage is DraftStage.REVIEW

        def submit(session: Session) -> str:
            draft = session.get(Draft, draft_id)
            member = session.get(Member, draft.member_id)  # type: ignore[union-attr]
            assert draft is not None and member is not None
            outcome = apps.submit(
                session, draft, member=member, member_label="甲", staff_chat_id=ORGANIZATION
            )
            assert outcome.case is not None
            return outcome.case.number or ""

        first = in_session(harness.engine, submit)
        member = late.get(Member, stale.member_id)
        assert member is not None
        second = apps.submit(
            late, stale, member=member, member_label="甲", staff_chat_id=ORGANIZATION
        )
        assert second.case is not None
        second_number = second.case.number
        late.rollback()
    assert second_number == first
    with Session(harness.engine) as session:
        assert len(session.exec(select(Case)).all()) == 1


async def test_after_filing_the_member_reads_what_happens_next(harness: Harness) -> None:
    form = _forms(harness)["service_card"]
    await start(harness, form)
    await fill(harness, form)
    filed = await harness.press("提交")
    assert "权益保障部的工作人员会审核您的申请" in filed["text"]
    assert "在指定时间个人向本级工会提交办卡材料" not in filed["text"], "an internal step"
    # The union's own steps are still there for whoever asks for 办理流程.
    steps = await harness.say("会员服务卡办理流程")
    assert "在指定时间个人向本级工会提交办卡材料" in steps["text"]
