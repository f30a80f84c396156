"""转人工: consultations between a member and the staff chat, as plain case rules.

Every message a consultation produces goes through the outbox in the same transaction as the
case change, so that it is sent even if Telegram is down at that moment.
"""

from __future__ import annotations

from sqlmodel import Session

from bot import texts
from bot.replies import escape
from knowledge.catalogue import Catalogue
from storage.cases import (
    card_message_id,
    close_case,
    enqueue,
    file_consultation,
    member_of,
    record_event,
    record_miss,
)
from storage.models import Actor, Case, Member, MissReason

# Telegram's limit is 4,096 characters; the rest of a card needs well under 600.
CARD_QUESTION_LIMIT = 3400
CHUNK = 3500


_e = escape


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return _e(text)
    return _e(text[:limit]) + _e(texts.TRUNCATED.format(length=len(text)))


def _chunks(text: str) -> list[str]:
    return [text[i : i + CHUNK] for i in range(0, len(text), CHUNK)] or [""]


def start_consultation(
    *,
    session: Session,
    catalogue: Catalogue,
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
    card = texts.STAFF_CARD.format(
        number=case.number,
        duty=_e(f"{duty.id} {duty.name}") if duty else texts.STAFF_CARD_UNKNOWN_DUTY,
        department=_e(department or "综合"),
        member=_e(member_label),
        question=_shorten(question, CARD_QUESTION_LIMIT),
    )
    enqueue(session=session, chat_id=staff_chat_id, text=card, case=case, track=True)
    record_miss(session=session, question=question, reason=MissReason.HANDOFF, guess=duty_id)
    return case


def relay_to_staff(
    *, session: Session, case: Case, text: str | None, copy_of: tuple[int, int] | None = None
) -> None:
    """A member's message in an open consultation, threaded under the staff card."""
    assert case.staff_chat_id is not None
    card = card_message_id(session=session, case=case)
    if text is not None:
        for part in _chunks(text):
            enqueue(
                session=session,
                chat_id=case.staff_chat_id,
                text=texts.STAFF_MEMBER_MESSAGE.format(number=case.number, text=_e(part)),
                case=case,
                reply_to_message_id=card,
                track=True,
            )
    if copy_of is not None:
        enqueue(
            session=session,
            chat_id=case.staff_chat_id,
            text=texts.STAFF_MEMBER_MEDIA.format(number=case.number),
            case=case,
            reply_to_message_id=card,
            track=True,
        )
        enqueue(
            session=session,
            chat_id=case.staff_chat_id,
            text="",
            case=case,
            reply_to_message_id=card,
            track=True,
            copy_of=copy_of,
        )
    record_event(
        session=session,
        case=case,
        actor=Actor.MEMBER,
        action="member_message",
        detail={"text": text, "attachment": copy_of is not None},
    )


def relay_to_member(
    *,
    session: Session,
    case: Case,
    staff_telegram_id: int,
    union: str,
    text: str | None,
    copy_of: tuple[int, int] | None = None,
) -> None:
    """A staff reply, marked as from the union."""
    member = member_of(session=session, case=case)
    if text is not None:
        for part in _chunks(text):
            enqueue(
                session=session,
                chat_id=member.chat_id,
                text=texts.STAFF_REPLY.format(union=_e(union), number=case.number, text=_e(part)),
                case=case,
            )
    if copy_of is not None:
        enqueue(
            session=session,
            chat_id=member.chat_id,
            text=texts.STAFF_MEDIA_REPLY.format(union=_e(union), number=case.number),
            case=case,
        )
        enqueue(session=session, chat_id=member.chat_id, text="", case=case, copy_of=copy_of)
    record_event(
        session=session,
        case=case,
        actor=Actor.STAFF,
        actor_telegram_id=staff_telegram_id,
        action="staff_reply",
        detail={"text": text, "attachment": copy_of is not None},
    )


def end_consultation(
    *, session: Session, case: Case, actor: Actor, actor_telegram_id: int | None
) -> bool:
    """Close it and tell the other side; False if it was already closed."""
    if not close_case(
        session=session, case=case, actor=actor, actor_telegram_id=actor_telegram_id
    ):
        return False
    if actor is Actor.MEMBER and case.staff_chat_id is not None:
        enqueue(
            session=session,
            chat_id=case.staff_chat_id,
            text=texts.STAFF_MEMBER_ENDED.format(number=case.number),
            case=case,
            reply_to_message_id=card_message_id(session=session, case=case),
        )
    elif actor is Actor.STAFF:
        member = member_of(session=session, case=case)
        enqueue(
            session=session,
            chat_id=member.chat_id,
            text=texts.HANDOFF_CLOSED_BY_STAFF.format(number=case.number),
            case=case,
        )
    return True
