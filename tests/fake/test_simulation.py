"""Simulated users: blocking the bot, and what group privacy mode lets the bot see."""

from __future__ import annotations

import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden

from bot.fake import (
    FakeTelegram,
)
from tests.fake.conftest import MEMBER, STAFF_CHAT


async def test_blocked_user_gives_403(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_message(MEMBER, text="你好")
    fake.block(MEMBER.id)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(MEMBER.id, "hi")
    fake.unblock(MEMBER.id)
    await bot.send_message(MEMBER.id, "hi")
    with pytest.raises(BadRequest, match=r"(?i)^chat not found$"):
        await bot.send_message(555, "nobody")


async def test_group_privacy_mode(fake: FakeTelegram, bot: Bot) -> None:
    fake.register_chat(STAFF_CHAT, type="supergroup", title="工会工作人员")
    note = await bot.send_message(STAFF_CHAT, "新案件 #12")
    fake.user_message(MEMBER, STAFF_CHAT, "大家好")  # not for the bot
    fake.user_message(MEMBER, STAFF_CHAT, "已处理", reply_to_message_id=note.message_id)
    fake.user_message(MEMBER, STAFF_CHAT, "/cases@hedong_union_bot")
    fake.user_message(MEMBER, STAFF_CHAT, "/cases@other_bot")
    texts = [u.message.text for u in await bot.get_updates() if u.message]
    assert texts == ["已处理", "/cases@hedong_union_bot"]
    assert [u["message"]["text"] for u in fake.undelivered] == ["大家好", "/cases@other_bot"]
    assert len(fake.messages(STAFF_CHAT)) == 5  # the chat itself has everything
