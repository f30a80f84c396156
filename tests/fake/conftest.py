"""Shared pieces of the fake's tests: a fake, a Bot talking to it, a member and a staff chat."""

from __future__ import annotations

import datetime as dtm
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import RetryAfter

from bot.fake import FakeRequest, FakeTelegram, FakeUser

MEMBER = FakeUser(1001, "张", "三", username="zhangsan")
STAFF_CHAT = -1001234567890


@pytest.fixture
def fake() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(
        fake.token, request=FakeRequest(fake), get_updates_request=FakeRequest(fake)
    ) as bot:
        yield bot


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d[:10], callback_data=d) for d in data]])


def retry_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)
