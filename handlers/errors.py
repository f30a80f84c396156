"""The error handler: log without personal data, apologise to the member, tell the admins."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application

from bot import texts
from bot.inbox import BUSY_KEY, INBOX_KEY
from bot.pacing import MEMBER
from bot.replies import inline_keyboard
from bot.services import Context, services
from handlers.common import ReplyNotDelivered
from storage.cases import enqueue

log = logging.getLogger(__name__)
PROJECT = str(Path(__file__).resolve().parent.parent)


def register(app: Application) -> None:
    app.add_error_handler(on_error)


async def on_error(update: object, context: Context) -> None:
    error = context.error
    if isinstance(error, ReplyNotDelivered):
        # Not a failure of ours: Telegram is slow or away. The outbox sends it when it can.
        svc = services(context)
        reply = error.reply
        await svc.db.session(
            lambda session: enqueue(
                session=session,
                chat_id=error.chat_id,
                text=reply.text,
                reply_markup=inline_keyboard(reply.buttons) if reply.buttons else None,
                priority=MEMBER,
            ),
            attempts=1,
        )
        svc.delivery.wake()
        log.warning("a reply went to the outbox after Telegram refused it for now")
        return
    if isinstance(error, SQLAlchemyError) and isinstance(update, Update):
        # The database is away: the update stays stored and is handled again when it is back
        # (bot.inbox); the member is told once a minute that it will be answered.
        inbox = context.bot_data.get(INBOX_KEY)
        if inbox is not None:
            inbox.again_later(update)
            log.warning("update %s waits for the database", update.update_id)
            notice = context.bot_data.get(BUSY_KEY)
            if notice is not None:
                try:
                    await notice(update)
                except TelegramError:
                    log.warning("could not tell the member to wait")
            return
    update_id = update.update_id if isinstance(update, Update) else None
    # The type and place only: an exception's message may quote what the member wrote.
    where = ""
    frame = error.__traceback__ if error is not None else None
    while frame is not None:  # the last place in our own code
        path = frame.tb_frame.f_code.co_filename
        if PROJECT in path and "site-packages" not in path:
            where = f" at {path.rsplit('/', 1)[-1]}:{frame.tb_lineno}"
        frame = frame.tb_next
    summary = f"{type(error).__name__}{where}"
    log.error("update %s failed: %s", update_id, summary)
    if (
        isinstance(update, Update)
        and update.effective_chat
        and update.effective_chat.type == "private"
    ):
        try:
            await context.bot.send_message(update.effective_chat.id, texts.ERROR)
        except TelegramError:
            log.warning("could not tell the member about the error")
    for admin in services(context).settings.admin_ids:
        try:
            await context.bot.send_message(
                admin, texts.ADMIN_ERROR.format(error=summary, update_id=update_id)
            )
        except TelegramError:
            log.warning("could not report the error to an admin")
