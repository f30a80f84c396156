"""Parameters are read the way the Bot API reads form strings and JSON values."""

from __future__ import annotations

import pytest

from bot.fake.params import decode_params, public
from bot.fake.protocol import ApiError


def test_form_strings_become_values() -> None:
    params = decode_params(
        {
            "chat_id": "-1001234",
            "from_chat_id": "@hedong_union",
            "message_id": "12abc",
            "limit": "x",
            "protect_content": "true",
            "disable_notification": "0",
            "reply_markup": '{"inline_keyboard": []}',
            "text": "材料".encode(),
            "caption": None,
        }
    )
    assert params == {
        "chat_id": -1001234,
        "from_chat_id": "@hedong_union",
        "message_id": 12,  # leading digits count, as on Telegram
        "limit": 0,
        "protect_content": True,
        "disable_notification": False,
        "reply_markup": {"inline_keyboard": []},
        "text": "材料",
    }


def test_malformed_json_is_refused_in_telegram_words() -> None:
    with pytest.raises(ApiError) as caught:
        decode_params({"reply_markup": "{not json"})
    assert caught.value.code == 400
    assert caught.value.description == (
        "Bad Request: can't parse reply keyboard markup JSON object"
    )
    # Telegram ignores a malformed allowed_updates instead of refusing the call.
    assert decode_params({"allowed_updates": "[oops"}) == {}


def test_public_drops_the_fakes_private_fields() -> None:
    message = {"text": "好", "_source": "<b>好</b>", "entities": [{"type": "bold", "_x": 1}]}
    assert public(message) == {"text": "好", "entities": [{"type": "bold"}]}
