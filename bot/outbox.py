"""Delivers the outbox: messages written to the database first, sent to Telegram after.

A message is claimed with a lease before it is sent, so that two bot processes on one database
never send it twice at once; a failed send stays pending and is retried with back-off, so a
Telegram outage or a 429 never loses a staff card or a reply. Only a permanent refusal (the
member blocked the bot, a message Telegram rejects) ends it as failed, and that is recorded.
"""

from __future__ import annotations

import html
import logging
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot import texts
from storage.cases import enqueue, link_message, record_event
from storage.db import session_scope
from storage.models import Actor, Case, Member, OutboxMessage, OutboxStatus, utcnow

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
MAX_BACKOFF = timedelta(hours=1)


class Postman:
    def __init__(
        self,
        engine: Engine,
        *,
        retry_seconds: float = 30.0,
        fallback_chat: int | None = None,
        admin_ids: tuple[int, ...] = (),
    ) -> None:
        self.engine = engine
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
                .order_by(col(OutboxMessage.id))
                .limit(limit)
            ).all()
            for message in due:
                taken = session.execute(
                    update(OutboxMessage)
                    .where(col(OutboxMessage.id) == message.id)
                    .where(col(OutboxMessage.status) == OutboxStatus.PENDING)
                    .where(col(OutboxMessage.next_attempt_at) == message.next_attempt_at)
                    .values(next_attempt_at=now + LEASE)
                )
                if getattr(taken, "rowcount", 0) == 1:
                    claimed.append(message)
        return claimed

    async def flush(self, bot: Bot, *, limit: int = 50) -> int:
        """Send what is due; returns how many went out."""
        sent = 0
        # Sending may owe new messages (a refusal is reported to staff): loop until none are
        # due. What failed is due again only after its back-off, so this ends.
        while batch := self._claim(limit):
            for message in batch:
                sent += await self._send(bot, message)
        return sent

    async def _send(self, bot: Bot, message: OutboxMessage) -> int:
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
        try:
            if message.file_id is not None:
                send_file = bot.send_photo if message.file_kind == "photo" else bot.send_document
                posted = await send_file(
                    message.chat_id,
                    message.file_id,
                    caption=message.text or None,
                    parse_mode=ParseMode.HTML,
                    reply_parameters=reply,
                )
                message_id = posted.message_id
            elif message.copy_from_chat_id is not None and message.copy_message_id is not None:
                copied = await bot.copy_message(
                    message.chat_id,
                    message.copy_from_chat_id,
                    message.copy_message_id,
                    reply_parameters=reply,
                )
                message_id = copied.message_id
            else:
                posted = await bot.send_message(
                    message.chat_id,
                    message.text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    reply_parameters=reply,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
                message_id = posted.message_id
        except RetryAfter as error:
            self._retry(message, error, timedelta(seconds=_seconds(error.retry_after)))
            return 0
        except Forbidden as error:
            self._fail(message, error, blocked=True)
            return 0
        except BadRequest as error:
            self._fail(message, error, blocked=False)
            return 0
        except TelegramError as error:  # network errors, timeouts, 5xx
            backoff = min(self.retry * (2 ** min(message.attempts, 10)), MAX_BACKOFF)
            self._retry(message, error, backoff)
            return 0
        self._done(message, message_id)
        return 1

    def _done(self, message: OutboxMessage, message_id: int) -> None:
        with session_scope(self.engine) as session:
            stored = session.get(OutboxMessage, message.id)
            if stored is None:
                return
            stored.status = OutboxStatus.SENT
            stored.sent_message_id = message_id
            stored.sent_at = utcnow()
            stored.attempts += 1
            session.add(stored)
            if stored.track and stored.case_id is not None:
                link_message(
                    session=session,
                    case_id=stored.case_id,
                    chat_id=stored.chat_id,
                    message_id=message_id,
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
            if member is None:
                self._reroute(session, stored, case)
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

    def _reroute(self, session: Session, stored: OutboxMessage, case: Case | None) -> None:
        """A staff chat refused a message: send it to the general chat and tell the admins."""
        if stored.chat_id in self.admin_ids:
            return  # an admin who never opened the bot: nothing more to do
        if self.fallback_chat is not None and stored.chat_id != self.fallback_chat:
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


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
