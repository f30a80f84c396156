"""Issue 12 §2: a member sees everything stored about them (/mydata) and has it erased
(/deleteme), except what the union must keep, anonymised, which they are told about."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from knowledge.forms import FieldType
from storage.models import (
    Attachment,
    Case,
    CaseEvent,
    CaseKind,
    CaseMessage,
    CaseStatus,
    Draft,
    Member,
    OutboxMessage,
)
from tests.handlers.conftest import RIGHTS, Harness
from tests.handlers.test_forms import _forms, _text_for, fill, start

QUESTION = "我老公查出癌症，家里困难，想申请帮扶"


async def _file_an_application(harness: Harness) -> Case:
    form = _forms(harness)["service_card"]
    await start(harness, form)
    await fill(harness, form)
    await harness.press("提交")
    with Session(harness.engine) as session:
        return session.exec(select(Case).where(Case.kind == CaseKind.APPLICATION)).one()


def _id_number(harness: Harness) -> str:
    form = _forms(harness)["service_card"]
    field = next(f for f in form.fields if f.type is FieldType.ID_NUMBER)
    return _text_for(field, 0)


def _json_sent(harness: Harness) -> tuple[dict[str, Any], dict[str, Any]]:
    message = next(
        m for m in reversed(harness.fake.bot_messages(harness.member.id)) if "document" in m
    )
    content = harness.fake._files[message["document"]["file_id"]].content
    return message, json.loads(content)


async def test_mydata_shows_everything_unmasked_to_its_owner(harness: Harness) -> None:
    case = await _file_an_application(harness)
    await harness.say(QUESTION)
    await harness.press("转人工")
    await harness.say("/mydata")
    summary = next(
        m["text"]
        for m in reversed(harness.fake.bot_messages(harness.member.id))
        if "我们保存的您的个人信息" in m.get("text", "")
    )
    assert case.number in summary
    message, data = _json_sent(harness)
    assert message["document"]["file_name"].startswith("我的个人信息-")
    assert message.get("has_protected_content") is True
    assert data["member"]["telegram_id"] == harness.member.id
    application = next(c for c in data["cases"] if c["number"] == case.number)
    assert _id_number(harness) in json.dumps(application["answers"], ensure_ascii=False)
    assert application["consents"] and application["consents"][0]["consented_at"]
    assert application["files"], "the ID-card photos are listed"
    consultation = next(c for c in data["cases"] if c["kind"] == "consultation")
    assert "癌症" in consultation["subject"]


async def test_deleteme_erases_and_keeps_only_the_anonymised_application(
    harness: Harness,
) -> None:
    case = await _file_an_application(harness)
    await harness.say(QUESTION)
    await harness.press("转人工")
    form = _forms(harness)["hardship_aid"]
    await start(harness, form)  # a draft under way
    files_dir = Path(harness.app.bot_data["services"].files_dir)
    assert any(p.is_file() for p in files_dir.rglob("*"))

    asked = await harness.say("/deleteme")
    assert "删除后无法恢复" in asked["text"]
    cancelled = await harness.press("取消")
    assert "没有删除" in cancelled["text"]
    await harness.say("/deleteme")
    done = await harness.press("确认删除")
    assert "已删除" in done["text"] and case.number in done["text"] and "3年" in done["text"]

    with Session(harness.engine) as session:
        kept = session.get(Case, case.id)
        assert kept is not None and kept.status is not CaseStatus.CLOSED
        raw = json.dumps(kept.answers, ensure_ascii=False)
        assert _id_number(harness) not in raw and "张测试" not in raw
        assert "1390000" not in raw
        assert session.exec(select(Attachment)).first() is None
        assert session.exec(select(Draft)).first() is None
        consultation = session.exec(select(Case).where(Case.kind == CaseKind.CONSULTATION)).one()
        assert "癌症" not in consultation.subject and consultation.status.is_final
        assert (
            session.exec(select(Member).where(Member.telegram_id == harness.member.id)).first()
            is None
        )
        # Nothing left that ties the kept application to the Telegram account, or holds the
        # member's words or phone: no outbox copies, no message links, no actor ids.
        member_id = harness.member.id
        outbox = list(session.exec(select(OutboxMessage)))
        assert not [o for o in outbox if o.chat_id == member_id]
        assert not [o for o in outbox if "1390000" in o.text or "癌症" in o.text]
        assert not [m for m in session.exec(select(CaseMessage)) if m.chat_id == member_id]
        events = session.exec(select(CaseEvent))
        assert not [e for e in events if e.actor_telegram_id == member_id]
    assert not any(p.is_file() for p in files_dir.rglob("*")), "the uploaded files are gone"
    told = harness.texts(RIGHTS)
    assert any("会员已申请删除个人信息" in t and case.number in t for t in told)
    # The member can start afresh: a new, empty record.
    again = await harness.say("/mydata")
    assert again is not None
    _, data = _json_sent(harness)
    assert data["cases"] == [] and data["drafts"] == []


async def test_mycases_shows_the_members_own_data_unmasked_and_pages_on(
    harness: Harness,
) -> None:
    case = await _file_an_application(harness)
    with Session(harness.engine) as session:  # eleven more, older consultations
        for n in range(11):
            session.add(
                Case(
                    kind=CaseKind.CONSULTATION,
                    member_id=case.member_id,
                    subject=f"咨询{n}",
                    number=f"HD-2026-9{n:05d}",
                )
            )
        session.commit()
    listing = await harness.say("/mycases")
    labels = [b["text"] for row in listing["reply_markup"]["inline_keyboard"] for b in row]
    assert len([label for label in labels if label.startswith("HD-")]) == 10
    assert "更早的申请 »" in labels
    older = await harness.press("更早的申请 »")
    older_labels = [b["text"] for row in older["reply_markup"]["inline_keyboard"] for b in row]
    assert [label for label in older_labels if label.startswith("HD-")]
    assert not set(older_labels) & {label for label in labels if label.startswith("HD-")}
    assert case.number is not None
    mine = next(label for label in older_labels if label.startswith(case.number))
    detail = await harness.press(mine)
    assert _id_number(harness) in detail["text"], "the member's own ID number, in full"
