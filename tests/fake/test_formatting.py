"""Parse modes and entities follow TDLib."""

from __future__ import annotations

import pytest
from telegram import Bot
from telegram.error import BadRequest

from bot.fake import (
    FakeTelegram,
    parse_html,
    parse_markdown_v2,
)
from tests.fake.conftest import MEMBER


async def test_malformed_markup_is_refused(fake: FakeTelegram, bot: Bot) -> None:
    fake.register_chat(MEMBER.id, first_name="张")
    cases = {
        "材料<清单>": 'unsupported start tag "清单" at byte offset 6',
        "<b>加粗": 'can\'t find end tag corresponding to start tag "b"',
        "<b>x</i>": 'unmatched end tag at byte offset 4, expected "</b>", found "</i>"',
        "1 < 2": 'unsupported start tag "" at byte offset 2',
    }
    for text, detail in cases.items():
        with pytest.raises(BadRequest) as caught:
            await bot.send_message(MEMBER.id, text, parse_mode="HTML")
        assert caught.value.message.lower() == f"can't parse entities: {detail}".lower()
    with pytest.raises(BadRequest, match=r"(?i)character '\.' is reserved"):
        await bot.send_message(MEMBER.id, "办理流程如下.", parse_mode="MarkdownV2")
    assert fake.bot_messages(MEMBER.id) == []


def test_parsers_follow_tdlib() -> None:
    assert parse_html('<a href="t.me/x">链接</a> &lt;b&gt; 😀<u>u</u>') == (
        "链接 <b> 😀u",
        [
            {"offset": 0, "length": 2, "type": "text_link", "url": "http://t.me/x"},
            {"offset": 9, "length": 1, "type": "underline"},  # the emoji is 2 UTF-16 units
        ],
    )
    text, entities = parse_markdown_v2(r"*粗* \. `code` [站](https://example.com)")
    assert text == "粗 . code 站"
    assert [e["type"] for e in entities] == ["bold", "code", "text_link"]
