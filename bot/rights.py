"""A member's rights over their personal information (个人信息保护法 第四十五条、第四十七条):
to see everything stored about them (/mydata) and to have it erased (/deleteme).

What is erased: the profile, every draft with its files, the member row's details (the pending
question, flood counters, who they are on Telegram), consultations' texts, and the consents.
What is kept: an application the union has filed stays on its records, anonymised (no name,
ID number, phone, card number, description or files), with its number, form, department,
status and dates, until its keeping time runs out; the member is told which and why, and
each case's staff chat is told that the member's data was erased.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, or_
from sqlmodel import Session, col, select

from bot import texts
from bot.applications import INTERNAL
from knowledge.forms import FieldType, Form
from storage.cases import enqueue, record_event
from storage.models import (
    Actor,
    Attachment,
    Case,
    CaseEvent,
    CaseKind,
    CaseMessage,
    CaseStatus,
    Draft,
    InboxUpdate,
    Member,
    OutboxMessage,
    utcnow,
)

# The answers an anonymised application loses: whatever names or describes the person.
PERSONAL_TYPES = {
    FieldType.NAME,
    FieldType.ID_NUMBER,
    FieldType.PHONE,
    FieldType.CARD_NUMBER,
    FieldType.UPLOAD,
    FieldType.LONG_TEXT,
}
# Telegram ids are positive; an erased member row keeps a negative stand-in, unique per row.
ERASED_ID_BASE = -(10**15)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _answers(answers: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (answers or {}).items() if k not in INTERNAL}


def _files(
    session: Session, *, draft_id: int | None = None, case_id: int | None = None
) -> list[dict[str, Any]]:
    query = select(Attachment)
    query = (
        query.where(Attachment.draft_id == draft_id)
        if draft_id is not None
        else query.where(Attachment.case_id == case_id)
    )
    return [
        {
            "field": a.field_id,
            "kind": a.kind,
            "type": a.mime_type,
            "size": a.size,
            "caption": a.caption,
            "sent_at": _iso(a.created_at),
        }
        for a in session.exec(query)
    ]


def member_data(session: Session, member: Member) -> dict[str, Any]:
    """Everything stored about the member, unmasked: it is theirs."""
    drafts = session.exec(
        select(Draft).where(Draft.member_id == member.id).order_by(col(Draft.id))
    ).all()
    cases = session.exec(select(Case).where(Case.member_id == member.id).order_by(col(Case.id)))
    return {
        "member": {
            "telegram_id": member.telegram_id,
            "first_seen": _iso(member.created_at),
            "last_seen": _iso(member.last_seen_at),
            "last_question": member.pending_question,
            "profile": member.profile,
            "profile_consented_at": _iso(member.profile_consented_at),
        },
        "drafts": [
            {
                "form": d.form_id,
                "stage": d.stage.value,
                "answers": _answers(d.answers),
                "files": _files(session, draft_id=d.id),
                "consented_at": _iso(d.consented_at),
                "consent_notice": d.consent_version,
                "sensitive_consented_at": _iso(d.sensitive_consented_at),
                "sensitive_consent_notice": d.sensitive_consent_version,
                "started_at": _iso(d.created_at),
                "updated_at": _iso(d.updated_at),
            }
            for d in drafts
        ],
        "cases": [_case_data(session, case) for case in cases],
    }


def _case_data(session: Session, case: Case) -> dict[str, Any]:
    events = session.exec(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.id))
    ).all()
    messages = [
        {"at": _iso(e.at), "from": "您" if e.actor is Actor.MEMBER else "工作人员", "text": text}
        for e in events
        if e.action in {"member_message", "member_file", "staff_reply", "filed"}
        and (text := (e.detail or {}).get("text"))
    ]
    consents = [
        {
            "consented_at": (e.detail or {}).get("consented_at"),
            "sensitive_consented_at": (e.detail or {}).get("sensitive_consented_at"),
            "notice": (e.detail or {}).get("privacy_notice"),
        }
        for e in events
        if e.action == "filed"
    ]
    return {
        "number": case.number,
        "kind": case.kind.value,
        "form": case.form_id,
        "subject": case.subject,
        "department": case.department,
        "status": case.status.value,
        "answers": case.answers,
        "files": _files(session, case_id=case.id),
        "messages": messages,
        "consents": consents,
        "rating": case.rating.value if case.rating else None,
        "rating_comment": case.rating_comment,
        "filed_at": _iso(case.created_at),
        "closed_at": _iso(case.closed_at),
    }


@dataclass
class Erasure:
    drafts: int = 0
    files: list[str] = field(default_factory=list)  # paths no attachment refers to any more
    kept: list[str] = field(default_factory=list)  # applications kept anonymised
    erased_cases: list[str] = field(default_factory=list)  # consultations emptied


def erase_member(
    session: Session,
    member: Member,
    *,
    forms: dict[str, Form],
    notice: str,
    update_card: Callable[[Session, Case], None] | None = None,
    now: datetime | None = None,
) -> Erasure:
    """Erase the member's personal data (see the module's docstring); `notice` is what each
    affected case's staff chat is told (with {number})."""
    now = now or utcnow()
    done = Erasure()
    freed: set[str] = set()
    for draft in session.exec(select(Draft).where(Draft.member_id == member.id)).all():
        for attachment in session.exec(select(Attachment).where(Attachment.draft_id == draft.id)):
            if attachment.case_id is None:
                freed.add(attachment.path)
                session.delete(attachment)
            else:
                attachment.draft_id = None
                session.add(attachment)
        session.flush()
        done.drafts += 1
        for case in session.exec(select(Case).where(Case.draft_id == draft.id)):
            case.draft_id = None
            session.add(case)
        session.flush()
        session.delete(draft)
    cases = session.exec(select(Case).where(Case.member_id == member.id)).all()
    case_ids = [case.id for case in cases if case.id is not None]
    # What was sent or owed about the member's cases, or to the member: relays, replies, the
    # caseworker's private brief with the phone, history copies.
    session.execute(
        delete(OutboxMessage).where(
            or_(
                col(OutboxMessage.case_id).in_(case_ids),
                col(OutboxMessage.chat_id) == member.chat_id,
            )
        ),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        delete(CaseMessage).where(col(CaseMessage.chat_id) == member.chat_id),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        delete(InboxUpdate)
        .where(col(InboxUpdate.chat_key) == member.chat_id)
        .where(col(InboxUpdate.handled_at).is_not(None)),
        execution_options={"synchronize_session": False},
    )
    for case in cases:
        for attachment in session.exec(select(Attachment).where(Attachment.case_id == case.id)):
            freed.add(attachment.path)
            session.delete(attachment)
        for event in session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id)):
            if event.actor is Actor.MEMBER:
                event.actor_telegram_id = None  # who did it: no longer said
            if event.detail:
                event.detail = {k: v for k, v in event.detail.items() if k == "form"}
            session.add(event)
        case.member_label = texts.ERASED_MEMBER
        case.rating_comment = None
        if case.kind is CaseKind.CONSULTATION:
            case.subject = texts.ERASED_TEXT
            case.answers = None
            if not case.status.is_final:
                case.status, case.closed_at = CaseStatus.CLOSED, now
            done.erased_cases.append(case.number or "")
        else:
            form = forms.get(case.form_id or "")
            personal = (
                {f.id for f in form.fields if f.type in PERSONAL_TYPES or f.sensitive}
                if form
                else set(case.answers or {})
            )
            case.answers = {k: v for k, v in (case.answers or {}).items() if k not in personal}
            done.kept.append(case.number or "")
        case.updated_at = now
        session.add(case)
        record_event(session=session, case=case, actor=Actor.MEMBER, action="erased")
        if update_card is not None and case.staff_chat_id is not None:
            update_card(session, case)  # the card no longer shows what was erased
        if case.staff_chat_id is not None:
            enqueue(
                session=session,
                chat_id=case.staff_chat_id,
                text=notice.format(number=case.number),
                case=case,
                reply_to_message_id=case.card_message_id,
            )
    session.flush()
    still_used = set(session.exec(select(Attachment.path)).all())
    done.files = sorted(freed - still_used)
    # The member row stays for the cases that point at it, with nothing that says who it was.
    member.telegram_id = ERASED_ID_BASE - (member.id or 0)
    member.chat_id = 0
    for name in (
        "pending_question",
        "pending_question_at",
        "pending_duty",
        "handoff_duty",
        "profile",
        "profile_consented_at",
        "awaiting_comment_case",
        "flood_tokens",
        "flood_at",
        "flood_until",
    ):
        setattr(member, name, None)
    member.awaiting_handoff = False
    member.blocked = True
    session.add(member)
    return done


def delete_files(files_dir: Path, paths: list[str]) -> None:
    for relative in paths:
        (files_dir / relative).unlink(missing_ok=True)


def numbers(values: list[str]) -> str:
    return "、".join(itertools.islice((v for v in values if v), 20))
