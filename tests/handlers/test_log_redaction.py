"""Issue 12 §6: no log line carries an ID number, a phone, what a member wrote about their
health, or the token, at any level and from any library."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from bot.redaction import scrub
from tests.factories import make_id_number, make_mobile
from tests.handlers.conftest import RIGHTS, TOKEN, Harness
from tests.handlers.test_forms import _forms, fill, start

ID_NUMBER = make_id_number(date(1980, 3, 9), sequence=100)
PHONE = make_mobile(0)
BOT_TOKEN = "123456789:AAHfakeTokenForTests-0123456789abcdef"
HEALTH = "我老公查出癌症，家里困难，想申请帮扶"


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        (f"身份证 {ID_NUMBER} 已提交", ID_NUMBER),
        (f"号码{ID_NUMBER[:-1]}X", ID_NUMBER[:-1]),
        ("电话 139 0000 1234 谢谢", "139 0000 1234"),
        ("电话 139-0000-1234", "139-0000-1234"),
        ("+86 13900001234", "13900001234"),
        ("座机 022-24312556", "24312556"),
        ("卡号6222020200112233445", "6222020200112233445"),
        ("卡号 6222 0202 0011 2233", "0202 0011"),
        ("身份证 1201 0219 8506 1512 3X", "8506"),
        (f"POST https://api.telegram.org/bot{BOT_TOKEN}/sendMessage", BOT_TOKEN.split(":")[1]),
    ],
)
def test_scrub_hides_personal_numbers_and_the_token(text: str, hidden: str) -> None:
    assert hidden not in scrub(text)


def test_scrub_keeps_what_the_logs_need() -> None:
    line = "update 100238 of chat -1001000000001 handled in 12 ms at 1764633600"
    assert scrub(line) == line


async def test_a_whole_application_and_consultation_at_debug_leak_nothing(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    form = _forms(harness)["service_card"]
    await start(harness, form)
    await fill(harness, form)
    await harness.press("提交")
    await harness.say(HEALTH)
    await harness.press("转人工")
    card = harness.last(RIGHTS)
    assert "癌症" in card["text"]  # staff see it; the logs do not
    await harness.say("我的电话是 139 0000 1234，身份证 " + ID_NUMBER)
    logged = "\n".join(
        [caplog.text, *(record.getMessage() for record in caplog.records)]
        + [record.exc_text or "" for record in caplog.records]
    )
    assert len(caplog.records) > 50  # python-telegram-bot did log at DEBUG
    for secret in (ID_NUMBER, PHONE, "139 0000 1234", "癌症", TOKEN, TOKEN.split(":")[1]):
        assert secret not in logged, secret
