"""Repository functions for members, consultations and their audit trail."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlalchemy import event as orm_events
from sqlmodel import Session, col, select

from storage.models import (
    ACTIVE_DRAFT_STAGES,
    FINAL_STATUSES,
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
    Miss,
    MissReason,
    OutboxMessage,
    StaffMember,
    utcnow,
)

CASE_PREFIX = "HD"
# Five digits or more with spaces, dashes or dots between them, and an ID number's final X.
GROUPED_NUMBER = re.compile(r"[0-9０-９](?:[\s\-－.·]*[0-9０-９]){4,}(?:[\s\-－]*[Xx])?")
# Telegram ids are positive; an erased or forgotten member row keeps a negative stand-in,
# unique per row.
ERASED_ID_BASE = -(10**15)


def case_number(case_id: int, created_at: datetime) -> str:
    """Readable and unique: the year it was filed and the case's own serial (HD-2026-000123)."""
    return f"{CASE_PREFIX}-{created_at.year}-{case_id:06d}"


# A member's last_seen_at is rewritten at most this often: a member typing away does not cost a
# write per message.
SEEN_EVERY = timedelta(minutes=1)


ACTIVE_DRAFTS = "active_drafts"  # session.info: member id → their unfinished draft, or None
# The member's latest unfinished draft, read with the member (one statement, not two: every
# message a member sends asks who they are and what form they are filling in).
_LATEST_ACTIVE_DRAFT = (
    select(func.max(Draft.id))
    .where(col(Draft.member_id) == col(Member.id))
    .where(col(Draft.stage).in_(ACTIVE_DRAFT_STAGES))
    .correlate(Member)
    .scalar_subquery()
)


def touch_member(*, session: Session, telegram_id: int, chat_id: int) -> Member:
    found = session.exec(
        select(Member, Draft)
        .outerjoin(Draft, col(Draft.id) == _LATEST_ACTIVE_DRAFT)
        .where(Member.telegram_id == telegram_id)
    ).first()
    member = None
    if found is not None:
        member, draft = found
        session.info.setdefault(ACTIVE_DRAFTS, {})[member.id] = draft
    now = utcnow()
    if member is None:
        member = Member(telegram_id=telegram_id, chat_id=chat_id)
    elif (
        member.chat_id == chat_id
        and not member.blocked
        and member.last_seen_at is not None
        and now - member.last_seen_at < SEEN_EVERY
    ):
        return member
    member.chat_id = chat_id
    member.last_seen_at = now
    member.blocked = False
    session.add(member)
    session.flush()
    return member


def record_event(
    *,
    session: Session,
    case: Case,
    actor: Actor,
    action: str,
    actor_telegram_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> CaseEvent:
    assert case.id is not None
    event = CaseEvent(
        case_id=case.id,
        actor=actor,
        actor_telegram_id=actor_telegram_id,
        action=action,
        detail=detail or {},
    )
    case.updated_at = event.at
    session.add(event)
    session.add(case)
    return event


def record_audit(
    *,
    session: Session,
    case: Case,
    actor_telegram_id: int,
    action: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """A staffer looked at or exported a case: on its record, without changing the case."""
    assert case.id is not None
    session.add(
        CaseEvent(
            case_id=case.id,
            actor=Actor.STAFF,
            actor_telegram_id=actor_telegram_id,
            action=action,
            detail=detail or {},
        )
    )


def enqueue(
    *,
    session: Session,
    chat_id: int,
    text: str,
    case: Case | None = None,
    reply_markup: dict[str, Any] | None = None,
    reply_to_message_id: int | None = None,
    track: bool = False,
    copy_of: tuple[int, int] | None = None,
    file: tuple[str, str] | None = None,
    card: bool = False,
    edit_message_id: int | None = None,
    protect: bool = False,
    priority: int | None = None,
) -> OutboxMessage:
    """A message owed to a chat, stored in the same transaction as the change behind it.

    `card`: the case's card, rendered when it is sent (`edit_message_id`: as an edit of that
    message). `protect`: sent with protect_content, and never rerouted to another chat.
    `priority` (bot.pacing): by default a member's private chat goes first (0), staff after
    (1); digests and reminders say 2.
    """
    if priority is None:
        priority = 0 if chat_id > 0 and not protect else 1
    message = OutboxMessage(
        chat_id=chat_id,
        text=text,
        case_id=case.id if case else None,
        reply_markup=reply_markup,
        reply_to_message_id=reply_to_message_id,
        track=track,
        copy_from_chat_id=copy_of[0] if copy_of else None,
        copy_message_id=copy_of[1] if copy_of else None,
        file_kind=file[0] if file else None,
        file_id=file[1] if file else None,
        card=card,
        edit_message_id=edit_message_id,
        protect=protect,
        priority=priority,
    )
    session.add(message)
    session.flush()
    session.info[OUTBOX_WRITTEN] = True
    return message


OUTBOX_WRITTEN = "outbox_written"  # session.info: this transaction queued a message
# Called (in the committing thread) when a transaction that queued messages has committed.
_outbox_listeners: list[Callable[[], None]] = []


def on_outbox_commit(listener: Callable[[], None]) -> Callable[[], None]:
    """Call `listener` whenever messages were queued and committed (in the thread that
    committed them); returns what stops it."""
    _outbox_listeners.append(listener)

    def remove() -> None:
        if listener in _outbox_listeners:
            _outbox_listeners.remove(listener)

    return remove


@orm_events.listens_for(Session, "after_commit")
def _outbox_committed(session: Session) -> None:
    if session.info.pop(OUTBOX_WRITTEN, False):
        for listener in list(_outbox_listeners):
            listener()


def consultations_since(*, session: Session, member: Member, since: datetime) -> int:
    """How many consultations the member has opened since then."""
    return len(
        session.exec(
            select(Case.id)
            .where(Case.member_id == member.id)
            .where(Case.kind == CaseKind.CONSULTATION)
            .where(col(Case.created_at) >= since)
        ).all()
    )


OPEN_CASES = "open_cases"  # session.info: member id → their unfinished cases, read once


def open_cases(*, session: Session, member: Member) -> list[Case]:
    """The member's cases not yet finished, newest first. Read once per unit of work: a
    member's message asks about them twice (flood control, and what the message is for); the
    memo is dropped when a flush writes any case."""
    memo: dict[int | None, list[Case]] = session.info.setdefault(OPEN_CASES, {})
    if member.id not in memo:
        memo[member.id] = list(
            session.exec(
                select(Case)
                .where(Case.member_id == member.id)
                .where(col(Case.status).not_in(FINAL_STATUSES))
                .order_by(col(Case.id).desc())
            ).all()
        )
    return [case for case in memo[member.id] if not case.status.is_final]


def active_draft(*, session: Session, member: Member) -> Draft | None:
    """The member's latest unfinished draft: as read with the member in this unit of work, if
    no draft was written since; else read now."""
    memo = session.info.get(ACTIVE_DRAFTS)
    if memo is not None and member.id in memo:
        draft: Draft | None = memo[member.id]
        if draft is None or draft.stage in ACTIVE_DRAFT_STAGES:
            return draft
    return session.exec(
        select(Draft)
        .where(Draft.member_id == member.id)
        .where(col(Draft.stage).in_(ACTIVE_DRAFT_STAGES))
        .order_by(col(Draft.id).desc())
    ).first()


# What each read memo holds: dropped when a flush writes one of these.
_MEMO_OF = {ACTIVE_DRAFTS: Draft, OPEN_CASES: Case}


@orm_events.listens_for(Session, "after_flush")
def _memos_written(session: Session, _context: Any) -> None:
    kept = [key for key in _MEMO_OF if key in session.info]
    if not kept:
        return
    written = {type(o) for o in (*session.new, *session.dirty, *session.deleted)}
    for key in kept:
        if _MEMO_OF[key] in written:
            session.info.pop(key, None)


def open_consultation(*, session: Session, member: Member) -> Case | None:
    return next(
        (c for c in open_cases(session=session, member=member) if c.kind is CaseKind.CONSULTATION),
        None,
    )


def file_consultation(
    *,
    session: Session,
    member: Member,
    question: str,
    duty_id: str | None,
    department: str | None,
    staff_chat_id: int,
) -> Case:
    assert member.id is not None
    case = Case(
        kind=CaseKind.CONSULTATION,
        member_id=member.id,
        duty_id=duty_id,
        department=department,
        subject=question,
        staff_chat_id=staff_chat_id,
    )
    session.add(case)
    session.flush()
    assert case.id is not None
    case.number = case_number(case.id, case.created_at)
    member.pending_question = None
    member.awaiting_handoff = False
    member.handoff_duty = None
    session.add(member)
    record_event(
        session=session,
        case=case,
        actor=Actor.MEMBER,
        actor_telegram_id=member.telegram_id,
        action="filed",
        detail={"duty": duty_id, "department": department},
    )
    return case


def card_message_id(*, session: Session, case: Case) -> int | None:
    """The staff chat message that stands for the case: its card, or (for a case filed before
    cards were tracked) the first message sent for it there."""
    if case.card_message_id is not None:
        return case.card_message_id
    return session.exec(
        select(CaseMessage.message_id)
        .where(CaseMessage.case_id == case.id)
        .where(CaseMessage.chat_id == case.staff_chat_id)
        .order_by(col(CaseMessage.id))
    ).first()


def case_for_reply(*, session: Session, chat_id: int, message_id: int) -> Case | None:
    """The case a message in a staff chat belongs to, if the bot sent it for a case."""
    link = session.exec(
        select(CaseMessage)
        .where(CaseMessage.chat_id == chat_id)
        .where(CaseMessage.message_id == message_id)
    ).first()
    return session.get(Case, link.case_id) if link else None


def link_message(*, session: Session, case_id: int, chat_id: int, message_id: int) -> None:
    exists = session.exec(
        select(CaseMessage)
        .where(CaseMessage.chat_id == chat_id)
        .where(CaseMessage.message_id == message_id)
    ).first()
    if exists is None:
        session.add(CaseMessage(case_id=case_id, chat_id=chat_id, message_id=message_id))
    elif exists.case_id != case_id:
        # Telegram never reuses a message id in a chat; a test server started afresh does.
        exists.case_id = case_id
        session.add(exists)


def close_case(
    *,
    session: Session,
    case: Case,
    actor: Actor,
    actor_telegram_id: int | None,
    status: CaseStatus = CaseStatus.CLOSED,
) -> bool:
    """Close a case once; False if it was already closed."""
    if case.status in FINAL_STATUSES:
        return False
    case.status = status
    case.closed_at = utcnow()
    record_event(
        session=session,
        case=case,
        actor=actor,
        actor_telegram_id=actor_telegram_id,
        action=status.value,
    )
    return True


def member_of(*, session: Session, case: Case) -> Member:
    member = session.get(Member, case.member_id)
    assert member is not None
    return member


def scrub_numbers(text: str) -> str:
    """Every number of five digits or more, however it is grouped (139 0000 1234, 139-0000-1234,
    an ID number ending in X), as asterisks: what was asked stays, whose it was does not."""
    return GROUPED_NUMBER.sub(lambda m: "*" * len(m.group()), text)


def record_miss(
    *, session: Session, question: str, reason: MissReason, guess: str | None = None
) -> None:
    """A question the bot could not settle, for `union-bot misses`: its text only, numbers
    scrubbed; deleted after the miss_keep_days setting (forget_misses)."""
    text = scrub_numbers(" ".join(question.split()))
    if text:
        session.add(Miss(question=text[:1000], reason=reason, guess=guess))


def forget_misses(session: Session, *, now: datetime, keep: timedelta) -> int:
    """Delete misses older than `keep`."""
    result = session.execute(
        delete(Miss).where(col(Miss.created_at) < now - keep),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)


def miss_summary(*, session: Session) -> list[tuple[str, dict[str, int], int]]:
    """Each distinct question, its reasons with counts, and its total; most frequent first."""
    reasons: dict[str, Counter[str]] = {}
    for miss in session.exec(select(Miss)):
        reasons.setdefault(miss.question, Counter())[miss.reason.value] += 1
    rows = [
        (question, dict(counter), sum(counter.values())) for question, counter in reasons.items()
    ]
    rows.sort(key=lambda row: (-row[2], row[0]))
    return rows


PURGED_SUBJECT = "（已过保存期限，内容已删除）"
PURGED = "purged"  # the event of a case whose content was deleted


def purge_closed_cases(*, session: Session, now: datetime, keep: timedelta) -> int:
    """Delete the content of cases closed longer than `keep` ago (办结后保存3年，到期删除)."""
    cutoff = now - keep
    cases = session.exec(
        select(Case)
        .where(col(Case.status).in_(FINAL_STATUSES))
        .where(col(Case.closed_at).is_not(None))
        .where(col(Case.closed_at) < cutoff)
    ).all()
    done = purged(session=session, case_ids=[case.id for case in cases if case.id is not None])
    cases = [case for case in cases if case.id not in done]
    for case in cases:
        purge_case(session=session, case=case)
    return len(cases)


def purged(*, session: Session, case_ids: Sequence[int]) -> set[int]:
    """Which of these cases have had their content deleted (by their event: the subject is
    encrypted, and a member may type anything as a consultation's)."""
    if not case_ids:
        return set()
    return set(
        session.exec(
            select(CaseEvent.case_id)
            .where(col(CaseEvent.case_id).in_(list(case_ids)))
            .where(CaseEvent.action == PURGED)
        ).all()
    )


def purge_case(*, session: Session, case: Case) -> None:
    """Delete a case's content. The case keeps its number, kind, department, status and dates,
    for statistics; its answers, the question, attachments, the relayed messages and the texts
    in its events go."""
    case.answers = None
    case.subject = PURGED_SUBJECT
    case.member_label = None
    case.rating_comment = None
    session.add(case)
    for attachment in session.exec(select(Attachment).where(Attachment.case_id == case.id)):
        session.delete(attachment)  # the file goes with the next orphan sweep
    for message in session.exec(select(OutboxMessage).where(OutboxMessage.case_id == case.id)):
        session.delete(message)
    for event in session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id)):
        if event.detail or (event.actor is Actor.MEMBER and event.actor_telegram_id):
            event.detail = {}
            if event.actor is Actor.MEMBER:
                event.actor_telegram_id = None  # who it was: no longer said
            session.add(event)
    if case.draft_id is not None and (draft := session.get(Draft, case.draft_id)) is not None:
        draft.answers, draft.last_answer = {}, None
        session.add(draft)
    record_event(session=session, case=case, actor=Actor.BOT, action=PURGED)


def idle_open_cases(*, session: Session, since: datetime) -> list[Case]:
    """Cases not yet finished with nothing recorded on them since `since`, oldest first."""
    return list(
        session.exec(
            select(Case)
            .where(col(Case.status).not_in(FINAL_STATUSES))
            .where(col(Case.updated_at) < since)
            .order_by(col(Case.updated_at))
        ).all()
    )


def forget_chat(*, session: Session, chat_id: int, case_ids: Sequence[int] = ()) -> None:
    """What was sent to a member's chat or owed to it (and about `case_ids`), the links to
    their messages, and the updates handled from it."""
    session.execute(
        delete(OutboxMessage).where(
            or_(
                col(OutboxMessage.case_id).in_(list(case_ids)),
                col(OutboxMessage.chat_id) == chat_id,
            )
        ),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        delete(CaseMessage).where(col(CaseMessage.chat_id) == chat_id),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        delete(InboxUpdate)
        .where(col(InboxUpdate.chat_key) == chat_id)
        .where(col(InboxUpdate.handled_at).is_not(None)),
        execution_options={"synchronize_session": False},
    )


def anonymous(member_id: int) -> dict[str, Any]:
    """What a member row keeps when it may say nothing of who it was: a negative stand-in for
    the Telegram id, no chat, no question, no profile."""
    return {
        "telegram_id": ERASED_ID_BASE - member_id,
        "chat_id": 0,
        "pending_question": None,
        "pending_question_at": None,
        "pending_duty": None,
        "handoff_duty": None,
        "profile": None,
        "profile_consented_at": None,
        "awaiting_comment_case": None,
        "flood_tokens": None,
        "flood_at": None,
        "flood_until": None,
        "awaiting_handoff": False,
        "blocked": True,
    }


def make_anonymous(member: Member) -> None:
    """The member row stays for the cases that point at it, with nothing that says who it
    was."""
    for name, value in anonymous(member.id or 0).items():
        setattr(member, name, value)


def forget_pending_questions(*, session: Session, now: datetime, keep: timedelta) -> int:
    """Members' last questions older than `keep` (kept for 都不是 and 转人工 only). One
    statement, so a question asked this moment is never the one forgotten."""
    result = session.execute(
        update(Member)
        .where(col(Member.pending_question_at) < now - keep)
        .values(pending_question=None, pending_question_at=None, pending_duty=None),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)


def forget_idle_members(*, session: Session, now: datetime, keep: timedelta) -> tuple[int, int]:
    """Members not seen for `keep` with nothing else kept (no draft under way, no saved
    profile, no case still holding content): deleted when they have no case, made anonymous
    when every case of theirs has been emptied (a case keeps its member row, without anything
    that says who it was). Staff on the roster are not members gone quiet. (deleted,
    anonymised)"""
    cutoff = now - keep
    idle = session.exec(
        select(Member)
        .where(col(Member.last_seen_at) < cutoff)
        .where(col(Member.telegram_id) > 0)  # an erased member is anonymous already
        .where(col(Member.telegram_id).not_in(select(StaffMember.telegram_id)))
    ).all()
    deleted = anonymised = 0
    for member in idle:
        if member.profile or member.id is None:
            continue
        drafts = session.exec(select(Draft).where(Draft.member_id == member.id)).all()
        if any(draft.stage in ACTIVE_DRAFT_STAGES for draft in drafts):
            continue
        cases = session.exec(select(Case).where(Case.member_id == member.id)).all()
        emptied = purged(session=session, case_ids=[c.id for c in cases if c.id is not None])
        if any(not case.status.is_final or case.id not in emptied for case in cases):
            continue  # a case still holds content the member may ask about
        chat_id = member.chat_id
        # Claimed in one statement that checks again: a member back this moment is kept.
        claimed = session.execute(
            update(Member)
            .where(col(Member.id) == member.id)
            .where(col(Member.last_seen_at) < cutoff)
            .values(**anonymous(member.id)),
            execution_options={"synchronize_session": False},
        )
        if not getattr(claimed, "rowcount", 0):
            continue
        session.expire(member)
        forget_chat(session=session, chat_id=chat_id)
        if cases:
            anonymised += 1
            continue
        for draft in drafts:  # ended drafts hold no answers, only their dates
            for attachment in session.exec(
                select(Attachment).where(Attachment.draft_id == draft.id)
            ):
                session.delete(attachment)
            session.delete(draft)
        session.flush()
        session.execute(
            delete(Member).where(col(Member.id) == member.id),
            execution_options={"synchronize_session": False},
        )
        session.expunge(member)
        deleted += 1
    return deleted, anonymised
