"""The bot's own methods: getMe and getUpdates with offsets and long polling."""

from __future__ import annotations

import asyncio
import time

from telegram import Bot

from bot.fake import (
    FakeTelegram,
)
from tests.fake.conftest import MEMBER


async def test_get_me(bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "hedong_union_bot", True)
    assert me.first_name == "河东区总工会服务助手"
    assert me.can_read_all_group_messages is False  # privacy mode is on by default


async def test_get_updates_and_offset(fake: FakeTelegram, bot: Bot) -> None:
    first = fake.user_message(MEMBER, text="/start")
    fake.user_message(MEMBER, text="会员服务卡怎么办理", reply_to_message_id=1)
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [first["update_id"], first["update_id"] + 1]
    start = updates[0].message
    assert start is not None and start.text == "/start"
    assert start.entities[0].type == "bot_command" and start.entities[0].offset == 0
    assert updates[1].message is not None and updates[1].message.reply_to_message is not None

    again = await bot.get_updates()  # not confirmed yet
    assert len(again) == 2
    assert await bot.get_updates(offset=updates[-1].update_id + 1) == ()
    assert fake.pending_updates() == []


async def test_get_updates_long_poll_times_out_empty(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= time.monotonic() - started < 2


async def test_long_poll_wakes_on_new_update(fake: FakeTelegram, bot: Bot) -> None:
    async def later() -> None:
        await asyncio.sleep(0.05)
        fake.user_message(MEMBER, text="在吗")

    task = asyncio.create_task(later())
    started = time.monotonic()
    updates = await bot.get_updates(timeout=5)
    await task
    assert [u.message.text for u in updates if u.message] == ["在吗"]
    assert time.monotonic() - started < 1
