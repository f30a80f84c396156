"""Turning plain replies into Telegram messages."""

from __future__ import annotations

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest

from knowledge.answers import Reply

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


def markup_data(reply: Reply) -> dict[str, object] | None:
    keyboard = markup(reply)
    return keyboard.to_dict() if keyboard else None


async def send(message: Message, reply: Reply) -> Message:
    return await message.reply_html(
        reply.text, reply_markup=markup(reply), link_preview_options=NO_PREVIEW, do_quote=False
    )


async def edit(query: CallbackQuery, reply: Reply) -> None:
    """Show the reply in place of the pressed message; an identical edit is not an error."""
    try:
        await query.edit_message_text(
            reply.text,
            parse_mode=ParseMode.HTML,
            reply_markup=markup(reply),
            link_preview_options=NO_PREVIEW,
        )
    except BadRequest as error:
        if "not modified" not in error.message:
            raise
