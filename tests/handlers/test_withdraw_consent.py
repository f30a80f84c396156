"""Issue 12 §2: a member who withdraws the separate consent to sensitive personal information
(health) has that information and its files removed, from an open case or a draft; the staff
chat is told and the card no longer shows it."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from bot import rights
from bot.fake.state import FakeUser
from storage.cases import enqueue
from storage.models import (
    SUPPLEMENT,
    Attachment,
    Case,
    CaseEvent,
    Draft,
    DraftStage,
    Member,
    OutboxMessage,
    OutboxStatus,
)
from tests.handlers.conftest import RIGHTS, Harness
from tests.handlers.test_forms import _buttons, _draft, _forms, fill, start

SENSITIVE = {"causes", "other_cause", "description", "documents"}


async def _filed(harness: Harness) -> Case:
    form = _forms(harness)["hardship_aid"]
    await start(harness, form)
    await fill(harness, form)
    await harness.press("提交")
    with Session(harness.engine) as session:
        case = session.exec(select(Case)).one()
    assert case.answers and SENSITIVE & set(case.answers)
    return case


def _files(harness: Harness) -> list[Path]:
    folder = Path(harness.app.bot_data["services"].files_dir)
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


async def test_withdrawing_on_an_open_case_removes_the_health_data_and_tells_staff(
    harness: Harness,
) -> None:
    case = await _filed(harness)
    assert len(_files(harness)) == 1  # the proof uploaded at 证明材料
    listed = await harness.say("/withdraw")
    assert "撤回敏感个人信息同意" in listed["text"]
    asked = await harness.press(case.number or "")
    assert "确定撤回" in asked["text"] and "无法恢复" in asked["text"]
    done = await harness.press("确认撤回")
    assert case.number in done["text"] and "困难情况说明" in done["text"]
    assert "经办人员已收到通知" in done["text"]
    with Session(harness.engine) as session:
        stored = session.exec(select(Case)).one()
        assert stored.answers is not None and not SENSITIVE & set(stored.answers)
        assert stored.answers["name"] == "张测试", "the rest of the application stays"
        assert session.exec(select(Attachment)).all() == []
        draft = session.get(Draft, stored.draft_id)
        assert draft is not None and draft.sensitive_consented_at is None
        event = session.exec(
            select(CaseEvent).where(CaseEvent.action == "sensitive_withdrawn")
        ).one()
        assert "困难情况说明" in event.detail["fields"]
    assert _files(harness) == [], "the files are deleted, not only unlinked"
    told = [t for t in harness.texts(RIGHTS) if "撤回对敏感个人信息的单独同意" in t]
    assert told and case.number in told[-1]
    card = harness.fake.message(RIGHTS, stored.card_message_id or 0)
    assert card is not None
    assert "测试说明" not in card["text"] and "困难情况说明" not in card["text"]
    again = await harness.say("/withdraw")
    assert "无需撤回" in again["text"]
    with Session(harness.engine) as session:  # /mydata shows the withdrawal among the consents
        member = session.exec(select(Member)).one()
        consents = rights.member_data(session, member)["cases"][0]["consents"]
    assert consents[-1]["sensitive_withdrawn_at"]


async def test_cancel_keeps_everything(harness: Harness) -> None:
    case = await _filed(harness)
    await harness.say("/withdraw")
    await harness.press(case.number or "")
    kept = await harness.press("取消")
    assert "没有撤回" in kept["text"]
    with Session(harness.engine) as session:
        assert SENSITIVE & set(session.exec(select(Case)).one().answers or {})


async def test_another_member_cannot_withdraw_it(harness: Harness) -> None:
    case = await _filed(harness)
    other = FakeUser(id=700555, first_name="别人")
    await harness.say("你好", other)
    await harness.process(
        harness.fake.press_button(other, other.id, 1, f"sw:c:{case.id}:yes", enqueue=False)
    )
    with Session(harness.engine) as session:
        assert SENSITIVE & set(session.exec(select(Case)).one().answers or {})


async def test_withdrawing_on_a_draft_asks_for_the_consent_again(harness: Harness) -> None:
    form = _forms(harness)["hardship_aid"]
    await start(harness, form)
    await fill(harness, form)  # at the summary, not filed
    await harness.say("/withdraw")
    await harness.press("（未提交）")
    done = await harness.press("确认撤回")
    assert "再次征求您的同意" in done["text"]
    draft = _draft(harness)
    assert draft is not None and draft.stage is DraftStage.CONSENT
    assert draft.consented_at is not None and draft.sensitive_consented_at is None
    assert not SENSITIVE & set(draft.answers)
    assert draft.answers.get("name") == "张测试"
    assert _files(harness) == []
    resumed = await harness.press("继续填写")
    if "继续填写" in _buttons(resumed):  # the form menu offers the draft under way
        resumed = await harness.press("继续填写")
    assert "敏感个人信息单独同意" in resumed["text"]
    await harness.press("同意处理上述敏感个人信息")
    draft = _draft(harness)
    assert draft is not None and draft.stage is DraftStage.FILLING
    assert draft.current_field in SENSITIVE, "the removed answers are asked again"


async def test_withdrawing_also_removes_later_proofs_and_copies_of_what_was_sent(
    harness: Harness,
) -> None:
    """Proofs sent after filing (补件) and the copies of cards kept in the outbox can hold the
    same health details: they go too, and the last words typed are not kept either."""
    case = await _filed(harness)
    folder = Path(harness.app.bot_data["services"].files_dir)
    (folder / "later").mkdir(parents=True, exist_ok=True)
    (folder / "later" / "proof").write_bytes(b"encrypted proof")
    with Session(harness.engine) as session:
        draft = session.get(Draft, case.draft_id)
        assert draft is not None and draft.last_answer is None, "a filed draft keeps no words"
        session.add(
            Attachment(
                case_id=case.id,
                field_id=SUPPLEMENT,
                kind="document",
                telegram_file_id="later-proof",
                telegram_file_unique_id="later-proof-u",
                chat_id=harness.member.id,
                message_id=1,
                size=15,
                sha256="0" * 64,
                path="later/proof",
            )
        )
        # A card's copy sent to a staffer's private chat (展开 or /case): it quotes the case.
        copy = enqueue(
            session=session, chat_id=harness.staffer.id, text="困难情况说明：测试说明", case=case
        )
        copy.status = OutboxStatus.SENT
        session.add(copy)
        session.commit()
    await harness.say("/withdraw")
    await harness.press(case.number or "")
    done = await harness.press("确认撤回")
    assert "补充材料" in done["text"]
    with Session(harness.engine) as session:
        assert session.exec(select(Attachment)).all() == []
        kept = session.exec(select(OutboxMessage).where(OutboxMessage.case_id == case.id)).all()
        assert not any("测试说明" in m.text for m in kept)
    assert not (folder / "later" / "proof").exists()


async def test_answers_waiting_for_a_renewed_consent_can_be_withdrawn(harness: Harness) -> None:
    """A changed notice clears the consent but keeps the answers until the member agrees
    again: they are still the member's to withdraw."""
    form = _forms(harness)["hardship_aid"]
    await start(harness, form)
    await fill(harness, form)
    with Session(harness.engine) as session:
        draft = session.exec(select(Draft)).one()
        draft.stage = DraftStage.CONSENT
        draft.consented_at = draft.sensitive_consented_at = None
        session.add(draft)
        session.commit()
    listed = await harness.say("/withdraw")
    assert "（未提交）" in str(listed.get("reply_markup")), listed["text"]
