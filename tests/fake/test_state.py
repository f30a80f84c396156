"""Injected failures: 429 and a timeout after the call was carried out."""

from __future__ import annotations

import pytest
from telegram import Bot
from telegram.error import RetryAfter, TimedOut

from bot.fake import (
    FakeTelegram,
)
from tests.fake.conftest import MEMBER, retry_seconds


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_inject_429_raises_retry_after(fake: FakeTelegram, bot: Bot) -> None:
    fake.register_chat(MEMBER.id, first_name="张")
    fake.inject_429(count=1, retry_after=7, methods={"sendMessage"})
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(MEMBER.id, "hi")
    assert retry_seconds(caught.value) == 7
    await bot.send_message(MEMBER.id, "hi")  # only one call was limited
    assert fake.errors == [("sendMessage", 429, "Too Many Requests: retry after 7")]


async def test_timeout_after_processing_sends_twice_on_retry(fake: FakeTelegram, bot: Bot) -> None:
    fake.register_chat(MEMBER.id, first_name="张")
    fake.fail_next(1, "sendMessage", mode="timeout")
    with pytest.raises(TimedOut):
        await bot.send_message(MEMBER.id, "hi")
    await bot.send_message(MEMBER.id, "hi")
    assert [m["text"] for m in fake.bot_messages(MEMBER.id)] == ["hi", "hi"]
