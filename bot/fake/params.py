"""Bot API parameters as they arrive (form strings or JSON) and as the bot gets values back."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from typing import Any

from bot.fake.protocol import JSON, bad, words

_JSON_PARAMS = words(
    "reply_markup entities caption_entities reply_parameters allowed_updates commands "
    "scope menu_button link_preview_options message_ids media"
)
_INT_PARAMS = words(
    "message_id offset limit timeout reply_to_message_id cache_time user_id message_thread_id"
)
_BOOL_PARAMS = words(
    "show_alert disable_notification protect_content allow_sending_without_reply "
    "drop_pending_updates disable_web_page_preview has_spoiler "
    "disable_content_type_detection show_caption_above_media allow_paid_broadcast"
)
_JSON_ERRORS = {
    "reply_markup": "can't parse reply keyboard markup JSON object",
    "entities": "can't parse entities JSON object",
    "caption_entities": "can't parse entities JSON object",
    "reply_parameters": "can't parse reply parameters JSON object",
    "commands": "can't parse commands JSON object",
    "scope": "can't parse BotCommandScope JSON object",
}


def to_int(value: Any) -> int:
    """Reads an integer as Telegram does: leading digits count, anything else is 0."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    match = re.match(r"\s*(-?\d+)", str(value))
    return int(match.group(1)) if match else 0


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "yes", "1")


def chat_ref(value: Any) -> int | str:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if re.fullmatch(r"-?\d+", text) else text


def decode_params(raw: Mapping[str, Any]) -> JSON:
    """Decodes parameters as they arrive (form strings or JSON values) into Python values."""
    params: JSON = {}
    for key, value in raw.items():
        if value is None:
            continue
        if key in _JSON_PARAMS:
            if isinstance(value, bytes):
                value = value.decode("utf-8", "replace")
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError as exc:
                    if key == "allowed_updates":  # Telegram ignores a malformed value
                        continue
                    message = _JSON_ERRORS.get(key, f"can't parse {key} JSON object")
                    raise bad(message) from exc
        elif key in _INT_PARAMS:
            value = to_int(value)
        elif key in _BOOL_PARAMS:
            value = to_bool(value)
        elif key in ("chat_id", "from_chat_id"):
            value = chat_ref(value)
        elif isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        params[key] = value
    return params


def public(value: Any) -> Any:
    """A deep copy without the fake's private ``_fields``, as the bot gets it."""
    if isinstance(value, dict):
        return {k: public(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, list):
        return [public(item) for item in value]
    return value


def unix_time() -> int:
    return int(time.time())
