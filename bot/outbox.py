"""Delivers the outbox: messages written to the database first, sent to Telegram after.

A message is claimed with a lease before it is sent, so that two bot processes on one database
never send it twice at once; a failed send stays pending and is retried with back-off, so a
Telegram outage or a 429 never loses a staff card or a reply. Only a permanent refusal (the
member blocked the bot, a message Telegram rejects) ends it as failed, and that is recorded.

A case's card is rendered when it is sent, from the case as it is then: a newer card job for
the same case and chat supersedes an older one, so a burst of changes edits the card once.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable, Container, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot import texts
from bot.replies import Reply, inline_keyboard
from storage.cases import enqueue, link_message, record_event
from storage.db import DatabaseThreads, session_scope
from storage.models import Actor, Case, Member, OutboxMessage, OutboxStatus, utcnow
from storage.staff import staff_member

log = logging.getLogger(__name__)
T = TypeVar("T")

LEASE = timedelta(minutes=2)
MAX_BACKOFF = timedelta(hours=1)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# A case's card for a chat: (session, case, chat id) → the text and buttons to show.
CardRenderer = Callable[[Session, Case, int], Reply]


class _Superseded(Exception):
    """A card job a newer one for the same card replaces (or whose case is gone)."""


class Postman:
    def __init__(
        self,
        engine: Engine,
        *,
        retry_seconds: float = 30.0,
        fallback_chat: int | None = None,
        admin_ids: tuple[int, ...] = (),
        render_card: CardRenderer | None = None,
        db: DatabaseThreads | None = None,
    ) -> None:
        self.engine = engine
        # Where the row reads and writes run: a database thread, off the event loop (None: in
        # line, for scripts that have no loop of their own to keep free).
        self.db = db
        self.render_card = render_card
        self.retry = timedelta(seconds=retry_seconds)
        # Where a staff chat's messages go when that chat refuses them (the bot was removed,
        # a wrong id): the general staff chat, and the admins are told.
        self.fallback_chat = fallback_chat
        self.admin_ids = admin_ids

    def _claim(self, limit: int) -> list[OutboxMessage]:
        now = utcnow()
        claimed = []
        with session_scope(self.engine) as session:
            due = session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.PENDING)
                .where(OutboxMessage.next_attempt_at <= now)
                .order_by(col(OutboxMessage.priority), col(OutboxMessage.id))
                .limit(limit)
            ).all()
            for message in due:
                if self._take(session, message, now):
                    claimed.append(message)
        return claimed

    @staticmethod
    def _take(session: Session, message: OutboxMessage, now: datetime) -> bool:
        """Lease one row to this process: no other process sends it while the lease holds."""
        taken = session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message.id)
            .where(col(OutboxMessage.status) == OutboxStatus.PENDING)
            .where(col(OutboxMessage.next_attempt_at) == message.next_attempt_at)
            .values(next_attempt_at=now + LEASE)
        )
        return getattr(taken, "rowcount", 0) == 1

    def due_heads(self, *, limit: int = 500, busy: Container[int] = ()) -> list[tuple[int, int]]:
        """(row id, chat id) of the first due row of each chat, most urgent first; chats in
        `busy` (a send already under way) are left out."""
        with session_scope(self.engine) as session:
            rows = session.exec(
                select(OutboxMessage.id, OutboxMessage.chat_id)
                .where(OutboxMessage.status == OutboxStatus.PENDING)
                .where(OutboxMessage.next_attempt_at <= utcnow())
                .order_by(col(OutboxMessage.priority), col(OutboxMessage.id))
                .limit(limit)
            ).all()
        heads: dict[int, int] = {}
        for message_id, chat_id in rows:
            if message_id is not None and chat_id not in busy and chat_id not in heads:
                heads[chat_id] = message_id
        return [(message_id, chat_id) for chat_id, message_id in heads.items()]

    async def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A row read or write, in a database thread where there is one."""
        if self.db is None:
            return function(*args, **kwargs)
        return await self.db.call(function, *args, **kwargs)

    async def _record(self, function: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        """What became of a send, recorded even if the bot stops meanwhile (a message that went
        out and is not marked would go out again at the next start)."""
        await asyncio.shield(self.call(function, *args, **kwargs))

    def claim_due(self, *, busy: Container[int], room: int) -> list[OutboxMessage]:
        """Lease the first due row of up to `room` chats not in `busy`, most urgent first."""
        claimed: list[OutboxMessage] = []
        for message_id, _chat_id in self.due_heads(busy=busy):
            if len(claimed) >= room:
                break
            if (message := self.claim(message_id)) is not None:
                claimed.append(message)
        return claimed

    def claim(self, message_id: int) -> OutboxMessage | None:
        """Lease this row, if it is still due and nobody else has it."""
        now = utcnow()
        with session_scope(self.engine) as session:
            message = session.get(OutboxMessage, message_id)
            if (
                message is None
                or message.status is not OutboxStatus.PENDING
                or message.next_attempt_at > now
                or not self._take(session, message, now)
            ):
                return None
        message.next_attempt_at = now + LEASE  # the lease this process holds (see release)
        return message

    def release(self, messages: Sequence[OutboxMessage]) -> None:
        """Give leased rows back unsent (the bot is stopping): due again at once. Only rows
        still under this lease: one sent meanwhile, or given a retry time by a 429 recorded
        as the send was cancelled, keeps what was recorded."""
        if not messages:
            return
        now = utcnow()
        with session_scope(self.engine) as session:
            for message in messages:
                session.execute(
                    update(OutboxMessage)
                    .where(col(OutboxMessage.id) == message.id)
                    .where(col(OutboxMessage.status) == OutboxStatus.PENDING)
                    .where(col(OutboxMessage.next_attempt_at) == message.next_attempt_at)
                    .values(next_attempt_at=now)
                )

    async def flush(self, bot: ExtBot[Any], *, limit: int = 50) -> int:
        """Send what is due, one after another; returns how many went out. (The delivery
        worker sends concurrently per chat; this is for tests, the terminal chat and jobs.)"""
        sent = 0
        # Sending may owe new messages (a refusal is reported to staff): loop until none are
        # due. What failed is due again only after its back-off, so this ends.
        while batch := self._claim(limit):
            for message in batch:
                sent += await self.send(bot, message)
        return sent

    async def send(self, bot: ExtBot[Any], message: OutboxMessage) -> int:
        """Send one leased row: 1 if it went out, 0 if it waits for a retry or failed."""
        return await self._send(bot, message)

    async def _send(self, bot: ExtBot[Any], message: OutboxMessage) -> int:
        reply = (
            ReplyParameters(message.reply_to_message_id, allow_sending_without_reply=True)
            if message.reply_to_message_id
            else None
        )
        markup = (
            InlineKeyboardMarkup.de_json(message.reply_markup, bot)
            if message.reply_markup
            else None
        )
        protect = message.protect or None
        try:
            if message.card:
                message_id, new_card = await self._send_card(bot, message)
            elif message.file_id is not None:
                send_file = bot.send_photo if message.file_kind == "photo" else bot.send_document
                posted = await send_file(
                    message.chat_id,
                    message.file_id,
                    caption=message.text or None,
                    parse_mode=ParseMode.HTML,
                    reply_parameters=reply,
                    protect_content=protect,
                    rate_limit_args=message.priority,
                )
                message_id = posted.message_id
            elif message.copy_from_chat_id is not None and message.copy_message_id is not None:
                copied = await bot.copy_message(
                    message.chat_id,
                    message.copy_from_chat_id,
                    message.copy_message_id,
                    reply_parameters=reply,
                    protect_content=protect,
                    rate_limit_args=message.priority,
                )
                message_id = copied.message_id
            else:
                posted = await bot.send_message(
                    message.chat_id,
                    message.text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    reply_parameters=reply,
                    link_preview_options=NO_PREVIEW,
                    protect_content=protect,
                    rate_limit_args=message.priority,
                )
                message_id = posted.message_id
        except _Superseded:
            await self._record(self._done, message, None)
            return 0
        except RetryAfter as error:
            wait = timedelta(seconds=_seconds(error.retry_after))
            await self._record(self._retry, message, error, wait)
            return 0
        except Forbidden as error:
            await self._record(self._fail, message, error, blocked=True)
            return 0
        except BadRequest as error:
            await self._record(self._fail, message, error, blocked=False)
            return 0
        except TelegramError as error:  # network errors, timeouts, 5xx
            await self._record(self._retry, message, error, self._backoff(message))
            return 0
        except Exception as error:  # a bug or a database error: this message waits, not all
            log.exception("outbox %s could not be sent", message.id)
            await self._record(self._retry, message, error, self._backoff(message))
            return 0
        await self._record(self._done, message, message_id, new_card=message.card and new_card)
        return 1

    def _backoff(self, message: OutboxMessage) -> timedelta:
        return min(self.retry * (2 ** min(message.attempts, 10)), MAX_BACKOFF)

    async def _send_card(self, bot: ExtBot[Any], message: OutboxMessage) -> tuple[int, bool]:
        """Send the case's card, or edit the one already there: (its message id, whether new).

        Cards go out with protect_content: they carry masked personal data, but no forwarding.
        """
        reply, target = await self.call(self._card, message)
        markup = (
            InlineKeyboardMarkup.de_json(inline_keyboard(reply.buttons), bot)
            if reply.buttons
            else None
        )
        if target is not None:
            try:
                edited = await bot.edit_message_text(
                    reply.text,
                    message.chat_id,
                    target,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    link_preview_options=NO_PREVIEW,
                    rate_limit_args=message.priority,
                )
                return (edited.message_id if isinstance(edited, Message) else target), False
            except BadRequest as error:
                lowered = error.message.lower()
                if "not modified" in lowered:
                    return target, False
                if message.edit_message_id is not None or not (
                    "not found" in lowered or "can't be edited" in lowered
                ):
                    raise
                # The card was deleted or is too old to edit: a fresh one takes its place.
        posted = await bot.send_message(
            message.chat_id,
            reply.text,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            link_preview_options=NO_PREVIEW,
            protect_content=True,
            rate_limit_args=message.priority,
        )
        return posted.message_id, True

    def _card(self, message: OutboxMessage) -> tuple[Reply, int | None]:
        """The card as it is now, and the message it replaces (None: a new one)."""
        with session_scope(self.engine) as session:
            case = session.get(Case, message.case_id) if message.case_id is not None else None
            newer = session.exec(
                select(OutboxMessage.id)
                .where(col(OutboxMessage.card).is_(True))
                .where(OutboxMessage.case_id == message.case_id)
                .where(OutboxMessage.chat_id == message.chat_id)
                .where(OutboxMessage.edit_message_id == message.edit_message_id)
                .where(OutboxMessage.status == OutboxStatus.PENDING)
                .where(col(OutboxMessage.id) > message.id)
            ).first()
            if case is None or newer is not None or self.render_card is None:
                raise _Superseded
            reply = self.render_card(session, case, message.chat_id)
            target = message.edit_message_id or (
                case.card_message_id if case.staff_chat_id == message.chat_id else None
            )
        return reply, target

    def _done(
        self, message: OutboxMessage, message_id: int | None, *, new_card: bool = False
    ) -> None:
        with session_scope(self.engine) as session:
            stored = session.get(OutboxMessage, message.id)
            if stored is None:
                return
            stored.status = OutboxStatus.SENT
            stored.sent_message_id = message_id
            stored.sent_at = utcnow()
            stored.attempts += 1
            session.add(stored)
            if message_id is None or stored.case_id is None:
                return
            if stored.track or stored.card:
                link_message(
                    session=session,
                    case_id=stored.case_id,
                    chat_id=stored.chat_id,
                    message_id=message_id,
                )
            if new_card:
                # A plain UPDATE: the case's version is for staff and members' changes, and a
                # card arriving must not make one of theirs fail.
                session.execute(
                    update(Case)
                    .where(col(Case.id) == stored.case_id)
                    .where(col(Case.staff_chat_id) == stored.chat_id)
                    .values(card_message_id=message_id)
                )

    def _retry(self, message: OutboxMessage, error: Exception, wait: timedelta) -> None:
        log.warning("outbox %s: %s, retrying in %s", message.id, type(error).__name__, wait)
        with session_scope(self.engine) as session:
            stored = session.get(OutboxMessage, message.id)
            if stored is None:
                return
            stored.attempts += 1
            stored.last_error = type(error).__name__
            stored.next_attempt_at = utcnow() + wait
            session.add(stored)

    def _fail(self, message: OutboxMessage, error: TelegramError, *, blocked: bool) -> None:
        log.warning("outbox %s undeliverable: %s", message.id, type(error).__name__)
        with session_scope(self.engine) as session:
            stored = session.get(OutboxMessage, message.id)
            if stored is None:
                return
            stored.status = OutboxStatus.FAILED
            stored.attempts += 1
            stored.last_error = f"{type(error).__name__}: {error.message}"[:500]
            session.add(stored)
            member = session.exec(select(Member).where(Member.chat_id == stored.chat_id)).first()
            case = session.get(Case, stored.case_id) if stored.case_id is not None else None
            if stored.chat_id < 0:  # a staff chat
                if _chat_refuses(error):
                    self._reroute(session, stored, case)
                elif case is not None:  # this one message: the chat is fine
                    record_event(
                        session=session,
                        case=case,
                        actor=Actor.BOT,
                        action="undeliverable",
                        detail={"chat": stored.chat_id, "error": stored.last_error},
                    )
                return
            if stored.protect or member is None:  # a staffer's private chat
                self._unreachable_staffer(session, stored, case)
                return
            if blocked:
                member.blocked = True
                session.add(member)
            if case is None:
                return
            record_event(
                session=session,
                case=case,
                actor=Actor.BOT,
                action="undeliverable",
                detail={"chat": "member", "error": stored.last_error},
            )
            if blocked and case.staff_chat_id is not None:
                enqueue(
                    session=session,
                    chat_id=case.staff_chat_id,
                    text=texts.STAFF_MEMBER_BLOCKED.format(number=case.number),
                    case=case,
                )

    def _unreachable_staffer(
        self, session: Session, stored: OutboxMessage, case: Case | None
    ) -> None:
        """A staffer (or an admin) who has not started the bot privately: their group is told
        how to fix it; what was owed is not sent anywhere else."""
        if case is None or case.staff_chat_id is None:
            return
        staffer = staff_member(session=session, telegram_id=stored.chat_id)
        record_event(
            session=session,
            case=case,
            actor=Actor.BOT,
            action="undeliverable",
            detail={"chat": "staff", "error": stored.last_error},
        )
        enqueue(
            session=session,
            chat_id=case.staff_chat_id,
            text=texts.STAFF_PRIVATE_UNREACHABLE.format(
                name=html.escape(staffer.name if staffer else str(stored.chat_id), quote=False),
                number=case.number,
            ),
            case=case,
        )

    def _reroute(self, session: Session, stored: OutboxMessage, case: Case | None) -> None:
        """A staff chat refused a message: send it to the general chat and tell the admins."""
        is_edit = stored.card and stored.edit_message_id is not None  # nothing to resend
        if self.fallback_chat is not None and stored.chat_id != self.fallback_chat and not is_edit:
            enqueue(
                session=session,
                chat_id=self.fallback_chat,
                text=stored.text,
                case=case,
                track=stored.track,
                copy_of=(
                    (stored.copy_from_chat_id, stored.copy_message_id)
                    if stored.copy_from_chat_id is not None and stored.copy_message_id is not None
                    else None
                ),
                file=(
                    (stored.file_kind or "document", stored.file_id) if stored.file_id else None
                ),
                card=stored.card,
                protect=stored.protect,
            )
            if case is not None and case.staff_chat_id == stored.chat_id:
                case.staff_chat_id = self.fallback_chat
                session.add(case)
        for admin in self.admin_ids:
            enqueue(
                session=session,
                chat_id=admin,
                text=texts.ADMIN_STAFF_CHAT_FAILED.format(
                    chat=stored.chat_id, error=html.escape(stored.last_error or "", quote=False)
                ),
            )
        if case is not None:
            record_event(
                session=session,
                case=case,
                actor=Actor.BOT,
                action="undeliverable",
                detail={"chat": stored.chat_id, "error": stored.last_error},
            )


# What a staff chat answers when the bot cannot post there at all (removed, no rights, a
# wrong id), as against a refusal of one message (too long, bad markup).
_CHAT_REFUSALS = ("chat not found", "not enough rights", "have no rights", "not a member")


def _chat_refuses(error: TelegramError) -> bool:
    return isinstance(error, Forbidden) or any(
        phrase in error.message.lower() for phrase in _CHAT_REFUSALS
    )


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
