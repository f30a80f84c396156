"""Turning plain replies into Telegram messages."""

from __future__ import annotations

import contextlib

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
from telegram.error import BadRequest, TelegramError

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


async def send(message: Message, reply: Reply) -> Message:
    return await message.reply_html(
        reply.text, reply_markup=markup(reply), link_preview_options=NO_PREVIEW, do_quote=False
    )


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
    await send_to(query.get_bot(), query.from_user.id, reply)


async def send_to(bot: Bot, chat_id: int, reply: Reply) -> Message:
    return await bot.send_message(
        chat_id,
        reply.text,
        parse_mode=ParseMode.HTML,
        reply_markup=markup(reply),
        link_preview_options=NO_PREVIEW,
    )


async def answer_query(
    query: CallbackQuery, text: str | None = None, *, alert: bool = True
) -> None:
    """Stop the button's spinner, with a text as an alert (or a brief toast); a query too old
    to answer is no reason to fail the update."""
    with contextlib.suppress(TelegramError):
        await query.answer(text[:200] if text else None, show_alert=alert and text is not None)
