"""FakeRequest plugs the fake into python-telegram-bot in-process."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Bot, Update
from telegram.error import InvalidToken
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

from bot.fake import (
    FakeRequest,
    FakeTelegram,
)
from tests.fake.conftest import MEMBER, keyboard


async def test_wrong_token_is_unauthorized(fake: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        await Bot("999:WRONG", request=FakeRequest(fake)).get_me()


async def test_application_round_trip(fake: FakeTelegram) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_html(
            "<b>欢迎</b>使用", reply_markup=keyboard("go"), do_quote=True
        )

    app = (
        ApplicationBuilder()
        .token(fake.token)
        .request(FakeRequest(fake))
        .get_updates_request(FakeRequest(fake))
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    fake.user_message(MEMBER, text="/start")
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        for _ in range(200):
            if fake.bot_messages(MEMBER.id):
                break
            await asyncio.sleep(0.01)
        await app.updater.stop()
        await app.stop()
    reply = fake.last_bot_message(MEMBER.id)
    assert reply is not None and reply["text"] == "欢迎使用"
    assert reply["reply_to_message"]["text"] == "/start"
    assert fake.pending_updates() == []  # the updater confirmed what it handled
    assert fake.errors == []
