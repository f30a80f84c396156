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
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from bot import texts
from bot.applications import INTERNAL, PROFILE
from bot.casework import Casework
from knowledge.forms import FieldType, Form
from storage.cases import forget_chat, make_anonymous, record_event
from storage.models import (
    SUPPLEMENT,
    Actor,
    Attachment,
    Case,
    CaseEvent,
    CaseKind,
    CaseStatus,
    Draft,
    DraftStage,
    Member,
    OutboxMessage,
    OutboxStatus,
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
        {
            "at": _iso(e.at),
            "from": texts.MYDATA_FROM_MEMBER
            if e.actor is Actor.MEMBER
            else texts.MYDATA_FROM_STAFF,
            "text": text,
        }
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
    ] + [
        {"sensitive_withdrawn_at": _iso(e.at)} for e in events if e.action == "sensitive_withdrawn"
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
    casework: Casework,
    notice: str,
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
    forget_chat(session=session, chat_id=member.chat_id, case_ids=case_ids)
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
            form = casework.forms.get(case.form_id or "")
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
        casework.update_card(session, case)  # the card no longer shows what was erased
        casework.to_staff_thread(session, case, notice.format(number=case.number))
    done.files = _unused(session, freed)
    make_anonymous(member)
    session.add(member)
    return done


def _unused(session: Session, freed: set[str]) -> list[str]:
    """Of the files whose attachments were deleted, those no other attachment refers to."""
    session.flush()
    if not freed:
        return []
    used = set(session.exec(select(Attachment.path).where(col(Attachment.path).in_(freed))))
    return sorted(freed - used)


def delete_files(files_dir: Path, paths: list[str]) -> None:
    for relative in paths:
        (files_dir / relative).unlink(missing_ok=True)


def numbers(values: list[str]) -> str:
    return "、".join(itertools.islice((v for v in values if v), 20))


# ------------------------------------------------------------------ withdrawing a consent


@dataclass(frozen=True, slots=True)
class Holding:
    """A draft or a case holding sensitive personal information under the member's separate
    consent: what /withdraw offers to withdraw it from."""

    kind: str  # "c" (a case) or "d" (a draft)
    id: int
    title: str
    number: str | None  # the case's; None for a draft


@dataclass
class Withdrawal:
    title: str
    number: str | None
    fields: list[str]  # the labels of what was removed
    files: list[str]  # paths no attachment refers to any more


def _sensitive(form: Form | None) -> dict[str, str]:
    """The form's sensitive fields: id → label."""
    return {f.id: f.label for f in form.fields if f.sensitive} if form else {}


def sensitive_holdings(session: Session, member: Member, forms: dict[str, Form]) -> list[Holding]:
    """The member's drafts under way with the separate consent given, and their cases that
    still hold sensitive answers or files."""
    found: list[Holding] = []
    for draft in session.exec(
        select(Draft).where(Draft.member_id == member.id).order_by(col(Draft.id))
    ):
        form = forms.get(draft.form_id)
        sensitive = _sensitive(form)
        if not draft.stage.is_active or not sensitive or form is None:
            continue
        # The consent in force, or answers given under one (a changed notice asks again, and
        # the answers wait for it).
        answered = any(draft.answers.get(key) for key in sensitive)
        if (
            draft.sensitive_consented_at is not None
            or answered
            or _files_of(session, sensitive, draft_id=draft.id)
        ):
            found.append(Holding("d", draft.id or 0, form.title, None))
    for case in session.exec(
        select(Case).where(Case.member_id == member.id).order_by(col(Case.id))
    ):
        form = forms.get(case.form_id or "")
        sensitive = _sensitive(form)
        if not sensitive or form is None:
            continue
        answered = any(case.answers and case.answers.get(key) for key in sensitive)
        if answered or _files_of(session, sensitive, case_id=case.id):
            found.append(Holding("c", case.id or 0, form.title, case.number))
    return found


def _files_of(
    session: Session,
    sensitive: dict[str, str],
    *,
    draft_id: int | None = None,
    case_id: int | None = None,
) -> list[Attachment]:
    """The files of a draft's or a case's sensitive fields; a case's also those sent later
    (补件), which for these forms are proofs of the same hardship."""
    query = select(Attachment)
    if draft_id is not None:
        query = query.where(Attachment.draft_id == draft_id).where(
            col(Attachment.field_id).in_(list(sensitive))
        )
    else:
        query = query.where(Attachment.case_id == case_id).where(
            col(Attachment.field_id).in_([*sensitive, SUPPLEMENT])
        )
    return list(session.exec(query).all())


def find_holding(
    session: Session, member: Member, forms: dict[str, Form], kind: str, holding_id: int
) -> Holding | None:
    """The member's own draft or case of that kind and id, if it holds sensitive information."""
    return next(
        (
            h
            for h in sensitive_holdings(session, member, forms)
            if (h.kind, h.id) == (kind, holding_id)
        ),
        None,
    )


def withdraw_sensitive(
    session: Session,
    member: Member,
    kind: str,
    holding_id: int,
    *,
    casework: Casework,
    notice: str,
) -> Withdrawal | None:
    """Withdraw the separate consent for one draft or case of the member's (个人信息保护法
    第十五条、第四十七条): its sensitive answers and files are deleted. A case's staff chat is
    told (`notice`, with {number} and {fields}) and its card no longer shows them; a draft asks
    for the consent again before it goes on. None if it is not the member's or holds none."""
    forms = casework.forms
    if (holding := find_holding(session, member, forms, kind, holding_id)) is None:
        return None
    freed: set[str] = set()
    if holding.kind == "d":
        draft = session.get(Draft, holding.id)
        assert draft is not None
        sensitive = _sensitive(forms[draft.form_id])
        answers = dict(draft.answers or {})
        removed = [label for key, label in sensitive.items() if key in answers]
        # The remembered profile stays; a choice half ticked or a question pending does not.
        draft.answers = {
            k: v
            for k, v in answers.items()
            if k not in sensitive and (k not in INTERNAL or k == PROFILE)
        }
        for attachment in _files_of(session, sensitive, draft_id=draft.id):
            freed.add(attachment.path)
            session.delete(attachment)
        draft.last_answer = None
        draft.sensitive_consented_at = draft.sensitive_consent_version = None
        draft.stage = DraftStage.CONSENT  # the separate consent is asked again on resuming
        draft.current_field = None
        draft.return_to_review = False
        draft.updated_at = utcnow()
        session.add(draft)
        return Withdrawal(holding.title, None, removed, _unused(session, freed))
    case = session.get(Case, holding.id)
    assert case is not None
    sensitive = _sensitive(forms.get(case.form_id or ""))
    answers = dict(case.answers or {})
    files = _files_of(session, sensitive, case_id=case.id)
    removed = [
        label
        for key, label in sensitive.items()
        if answers.get(key) or any(a.field_id == key for a in files)
    ]
    if any(a.field_id == SUPPLEMENT for a in files):
        removed.append(texts.SUPPLEMENT_LABEL)
    case.answers = {k: v for k, v in answers.items() if k not in sensitive}
    for attachment in files:
        freed.add(attachment.path)
        session.delete(attachment)
    # Copies of what was sent about the case (cards, relays) may quote the description; what
    # is still owed goes as it is.
    session.execute(
        delete(OutboxMessage)
        .where(col(OutboxMessage.case_id) == case.id)
        .where(col(OutboxMessage.status) != OutboxStatus.PENDING),
        execution_options={"synchronize_session": False},
    )
    if case.draft_id is not None and (draft := session.get(Draft, case.draft_id)) is not None:
        draft.sensitive_consented_at = draft.sensitive_consent_version = None
        draft.last_answer = None
        session.add(draft)
    session.add(case)
    record_event(
        session=session,
        case=case,
        actor=Actor.MEMBER,
        actor_telegram_id=member.telegram_id,
        action="sensitive_withdrawn",
        detail={"fields": removed},
    )
    casework.update_card(session, case)
    casework.to_staff_thread(
        session, case, notice.format(number=case.number, fields="、".join(removed))
    )
    return Withdrawal(holding.title, case.number, removed, _unused(session, freed))
