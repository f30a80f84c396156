"""Groups that are not staff chats: members are sent to a private chat; the rest is ignored."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot import texts
from bot.services import Context


def register(app: Application, staff_chats: set[int]) -> None:
    other_groups = filters.ChatType.GROUPS & ~filters.Chat(chat_id=staff_chats)
    # CommandHandler only sees /menu or /menu@this_bot, never /menu@another_bot.
    app.add_handler(CommandHandler(["start", "help", "menu", "human"], go_private, other_groups))


async def go_private(update: Update, context: Context) -> None:
    if (message := update.effective_message) is not None:
        await message.reply_html(
            texts.GROUP_ONLY_PRIVATE.format(bot_username=context.bot.username)
        )
