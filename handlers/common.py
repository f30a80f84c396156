"""Turning plain replies into Telegram messages."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    User,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.replies import Reply

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def markup(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
            for row in reply.buttons
        ]
    )


def member_label(user: User) -> str:
    """How staff see a member on a card: their Telegram name, and @username if any."""
    name = user.full_name
    return f"{name} (@{user.username})" if user.username else name


class ReplyNotDelivered(Exception):
    """Telegram did not take a member's reply after brief retries: the error handler writes it
    to the outbox, which delivers it when Telegram is back."""

    def __init__(self, chat_id: int, reply: Reply) -> None:
        super().__init__(f"reply to chat {chat_id} not delivered")
        self.chat_id = chat_id
        self.reply = reply


# Waits before each try of a direct reply: at once, then briefly twice. A 429 asking for a
# longer wait than DIRECT_RETRY_WAIT hands the reply to the outbox at once.
DIRECT_TRIES = (0.0, 0.5, 1.5)
DIRECT_RETRY_WAIT = 3.0


async def send(message: Message, reply: Reply) -> Message:
    return await send_to(message.get_bot(), message.chat_id, reply)


async def edit(query: CallbackQuery, reply: Reply) -> None:
    """Show the reply in place of the pressed message; an identical edit is not an error, and
    a message that can no longer be edited (too old, deleted) gets the reply as a new one."""
    if isinstance(query.message, Message):
        try:
            await query.edit_message_text(
                reply.text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup(reply),
                link_preview_options=NO_PREVIEW,
            )
            return
        except BadRequest as error:
            if "not modified" in error.message.lower():
                return
        except (RetryAfter, NetworkError):
            pass  # Telegram is slow or away: the reply goes as a new message, or to the outbox
    await send_to(query.get_bot(), query.from_user.id, reply)


async def send_to(bot: Bot, chat_id: int, reply: Reply) -> Message:
    """A reply sent at once; a 429, a 5xx or a timeout is tried again briefly, and then the
    reply goes to the outbox (ReplyNotDelivered), so that the member always gets it."""
    for pause in DIRECT_TRIES:
        if pause:
            await asyncio.sleep(pause)
        try:
            return await bot.send_message(
                chat_id,
                reply.text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup(reply),
                link_preview_options=NO_PREVIEW,
            )
        except RetryAfter as error:
            wait = _seconds(error.retry_after)
            if wait > DIRECT_RETRY_WAIT:
                break
            await asyncio.sleep(wait)
        except (BadRequest, Forbidden):
            raise  # Telegram refuses this message or chat: trying again changes nothing
        except NetworkError:  # 5xx, a dropped connection, a timeout
            continue
    raise ReplyNotDelivered(chat_id, reply)


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def answer_query(
    query: CallbackQuery, text: str | None = None, *, alert: bool = True
) -> None:
    """Stop the button's spinner, with a text as an alert (or a brief toast); a query too old
    to answer is no reason to fail the update."""
    with contextlib.suppress(TelegramError):
        await query.answer(text[:200] if text else None, show_alert=alert and text is not None)
