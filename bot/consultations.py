"""转人工: consultations between a member and the staff chat, as plain case rules.

Every message a consultation produces goes through the outbox in the same transaction as the
case change, so that it is sent even if Telegram is down at that moment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from bot import texts
from bot.replies import escape
from knowledge.catalogue import Catalogue
from knowledge.forms import mask_numbers
from storage.cases import (
    card_message_id,
    close_case,
    enqueue,
    file_consultation,
    member_of,
    record_event,
)
from storage.models import (
    Actor,
    Case,
    Member,
    OutboxMessage,
    OutboxStatus,
    utcnow,
)

if TYPE_CHECKING:
    from bot.casework import Casework

# Telegram's limit is 4,096 characters; the rest of a card needs well under 600.
CARD_QUESTION_LIMIT = 3400
CHUNK = 3500


_e = escape


def shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return _e(text)
    return _e(text[:limit]) + _e(texts.TRUNCATED.format(length=len(text)))


def _chunks(text: str) -> list[str]:
    return [text[i : i + CHUNK] for i in range(0, len(text), CHUNK)] or [""]


def start_consultation(
    *,
    session: Session,
    catalogue: Catalogue,
    casework: Casework,
    member: Member,
    member_label: str,
    question: str,
    duty_id: str | None,
    staff_chat_id: int,
) -> Case:
    duty = catalogue.get(duty_id) if duty_id else None
    department = duty.department if duty else None
    case = file_consultation(
        session=session,
        member=member,
        question=question,
        duty_id=duty.id if duty else None,
        department=department,
        staff_chat_id=staff_chat_id,
    )
    casework.file(session, case, member_label=member_label, now=utcnow())
    # Not kept among the misses too: the question lives on its case, under the case's rules.
    return case


def relay_to_staff(*, session: Session, case: Case, text: str) -> None:
    """A member's text about a case, threaded under its staff card, long numbers masked (a
    phone or ID number typed into a chat is not for the whole group). Texts that come while
    the last relay still waits to be sent join it: a burst is one post, not thirty."""
    assert case.staff_chat_id is not None
    masked = mask_numbers(text)
    waiting = _waiting_relay(session, case)
    if waiting is not None and len(waiting.text) + len(masked) < CHUNK:
        waiting.text += "\n" + _e(masked)
        # A new due time: a sender that read the row before this change cannot lease it.
        waiting.next_attempt_at = utcnow()
        session.add(waiting)
    else:
        card = card_message_id(session=session, case=case)
        for part in _chunks(masked):
            enqueue(
                session=session,
                chat_id=case.staff_chat_id,
                text=texts.STAFF_MEMBER_MESSAGE.format(number=case.number, text=_e(part)),
                case=case,
                reply_to_message_id=card,
                track=True,
            )
    record_event(
        session=session,
        case=case,
        actor=Actor.MEMBER,
        action="member_message",
        detail={"text": text},
    )


def _waiting_relay(session: Session, case: Case) -> OutboxMessage | None:
    """The case's last relay of a member's words, if it is still due and not being sent."""
    last = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.case_id == case.id)
        .where(OutboxMessage.chat_id == case.staff_chat_id)
        .order_by(col(OutboxMessage.id).desc())
    ).first()
    prefix = texts.STAFF_MEMBER_MESSAGE.format(number=case.number, text="")
    if (
        last is None
        or last.status is not OutboxStatus.PENDING
        or not last.track
        or last.next_attempt_at > utcnow()  # leased by a sender, or waiting out a retry
        or not last.text.startswith(prefix)
    ):
        return None
    return last


def relay_to_member(
    *,
    session: Session,
    case: Case,
    staff_telegram_id: int,
    union: str,
    text: str | None,
    copy_of: tuple[int, int] | None = None,
) -> None:
    """A staff reply, marked as from the union; the member's reply to it finds the case."""
    member = member_of(session=session, case=case)
    if text is not None:
        for part in _chunks(text):
            enqueue(
                session=session,
                chat_id=member.chat_id,
                text=texts.STAFF_REPLY.format(union=_e(union), number=case.number, text=_e(part)),
                case=case,
                track=True,
            )
    if copy_of is not None:
        enqueue(
            session=session,
            chat_id=member.chat_id,
            text=texts.STAFF_MEDIA_REPLY.format(union=_e(union), number=case.number),
            case=case,
            track=True,
        )
        enqueue(
            session=session,
            chat_id=member.chat_id,
            text="",
            case=case,
            copy_of=copy_of,
            track=True,
        )
    record_event(
        session=session,
        case=case,
        actor=Actor.STAFF,
        actor_telegram_id=staff_telegram_id,
        action="staff_reply",
        detail={"text": text, "attachment": copy_of is not None},
    )


def end_consultation(*, session: Session, casework: Casework, case: Case, member: Member) -> bool:
    """The member ends it: staff are told; False if it had ended already."""
    if not close_case(
        session=session, case=case, actor=Actor.MEMBER, actor_telegram_id=member.telegram_id
    ):
        return False
    casework.member_ended(session, case)
    return True
