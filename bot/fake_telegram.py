"""An in-memory fake of the Telegram Bot API that answers the way Telegram does.

Three layers share one :class:`FakeTelegram` state:

* :class:`FakeTelegram` holds the chats, messages, files and the update queue. Tests and a
  terminal chat drive it with :meth:`FakeTelegram.user_message`,
  :meth:`FakeTelegram.press_button` and friends, and inspect what the bot did with
  :meth:`FakeTelegram.messages`, :attr:`FakeTelegram.calls` and :attr:`FakeTelegram.errors`.
  :meth:`FakeTelegram.handle` answers one Bot API call with Telegram's JSON.
* :class:`FakeRequest` plugs the fake into python-telegram-bot in-process::

      fake = FakeTelegram()
      app = (
          ApplicationBuilder()
          .token(fake.token)
          .request(FakeRequest(fake))
          .get_updates_request(FakeRequest(fake))
          .build()
      )

* :class:`FakeTelegramServer` serves the same state over HTTP on 127.0.0.1, for
  ``Bot(token, base_url=..., base_file_url=...)`` or another process
  (``python -m bot.fake_telegram --port 8081``).

What the fake enforces, as Telegram does (descriptions are Telegram's own wording):

* text 1..4096 characters and captions up to 1024 after entity parsing; HTML, Markdown and
  MarkdownV2 are parsed with ports of TDLib's parsers, so malformed markup fails with
  ``can't parse entities: ...``; leading and trailing whitespace is trimmed, as Telegram does;
* inline keyboards: callback_data 1..64 bytes, valid button URLs, at most 100 buttons;
* edits: "message is not modified", "message to edit not found", "message can't be edited";
  an edit without ``reply_markup`` removes the inline keyboard, as on Telegram;
* replies to missing messages, unknown chats, blocked users (403), answered or unknown callback
  queries, ``getFile`` over 20 MB, uploads over 10 MB (photos) and 50 MB (anything);
* ``getUpdates`` offset/limit/timeout/allowed_updates semantics, long polling, and 409 Conflict
  when a second poller starts while one is waiting;
* group privacy mode: in groups where the bot is not an administrator it only receives
  commands, mentions of it and replies to its messages (see :attr:`FakeTelegram.undelivered`).

Known deviations from Telegram: photos are stored as uploaded (Telegram re-encodes them, so a
real bot must never rely on downloading the same bytes); link previews, topics, inline mode,
payments and most chat administration are not modelled. Bot API methods that exist but are not
implemented answer ``501 Not Implemented`` (python-telegram-bot raises ``NetworkError``).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import re
import secrets
import select
import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any, Literal
from urllib.parse import parse_qs, parse_qsl, unquote, urlsplit, urlunsplit

from telegram import Bot
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

__all__ = [
    "FakeRequest",
    "FakeTelegram",
    "FakeTelegramServer",
    "FakeUser",
    "SimulatedNetworkFailure",
    "main",
    "make_jpeg",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
    "utf16_len",
]

JSON = dict[str, Any]
FileTuple = tuple[str, bytes, str]
FailureMode = Literal["server_error", "network_error", "timeout"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_INLINE_BUTTONS = 100
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
MAX_PHOTO_UPLOAD_SIZE = 10 * 1024 * 1024
MAX_UPLOAD_SIZE = 50 * 1024 * 1024
MAX_POLL_TIMEOUT = 50

# The update types a bot receives when allowed_updates is unset or empty.
DEFAULT_ALLOWED_UPDATES = _words(
    "message edited_message channel_post edited_channel_post business_connection "
    "business_message edited_business_message deleted_business_messages inline_query "
    "chosen_inline_result callback_query shipping_query pre_checkout_query "
    "purchased_paid_media poll poll_answer my_chat_member chat_join_request "
    "chat_boost removed_chat_boost"
)

CHAT_ACTIONS = _words(
    "typing upload_photo record_video upload_video record_voice upload_voice "
    "record_audio upload_audio upload_document choose_sticker find_location "
    "pick_up_location record_video_note upload_video_note cancel"
)

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
QUERY_ID_INVALID = "query is too old and response timeout expired or query ID is invalid"
CONFLICT_OTHER_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
    "running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
    "the webhook first"
)


# --------------------------------------------------------------------------------------------
# Errors


class _ApiError(Exception):
    """An error answer of the Bot API: the HTTP status and Telegram's description."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad(description: str) -> _ApiError:
    return _ApiError(400, "Bad Request: " + description)


def _forbidden(description: str) -> _ApiError:
    return _ApiError(403, "Forbidden: " + description)


class SimulatedNetworkFailure(Exception):
    """Raised by :meth:`FakeTelegram.handle` for ``fail_next(mode="network_error"|"timeout")``.

    ``processed`` tells whether Telegram carried the call out before the answer was lost (a
    timeout after the message was sent), which is what makes blind retries send duplicates.
    """

    def __init__(self, processed: bool) -> None:
        super().__init__("simulated network failure" + (" after processing" if processed else ""))
        self.processed = processed


class _ParseError(Exception):
    """A formatting error, worded as TDLib words it (after "can't parse entities: ")."""


# --------------------------------------------------------------------------------------------
# Text: UTF-16 helpers, HTML / Markdown / MarkdownV2 parsers (ports of TDLib), entity detection

_SPACE_CHARS = frozenset(" \t\r\n\0\v")  # TDLib's is_space()
_TRIM_CHARS = " \t\r\n\v\f\0"

_ENTITY_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}

# How TDLib names entity types in its parse errors.
_TDLIB_TYPE_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "pre_code": "PreCode",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
    "blockquote": "BlockQuote",
}

_HTML_TAGS = _words(
    "a b strong i em s strike del u ins tg-spoiler tg-emoji span pre code blockquote"
)


def _is_space(ch: str) -> bool:
    return ch in _SPACE_CHARS


def _u16(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def utf16_len(text: str) -> int:
    """The length of ``text`` in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def utf16_slice(text: str, offset: int, length: int) -> str:
    """The part of ``text`` that an entity with this UTF-16 offset and length covers."""
    data = text.encode("utf-16-le", "surrogatepass")
    return data[2 * offset : 2 * (offset + length)].decode("utf-16-le", "replace")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


def _entity(kind: str, offset: int, length: int, **extra: Any) -> JSON:
    entity: JSON = {"offset": offset, "length": length, "type": kind}
    entity.update({key: value for key, value in extra.items() if value is not None})
    return entity


def _sort_entities(entities: list[JSON]) -> list[JSON]:
    return sorted(
        entities,
        key=lambda e: (e["offset"], -e["length"], _ENTITY_PRIORITY.get(e["type"], 50)),
    )


def _decode_html_entity(text: str, pos: int) -> tuple[int, int]:
    """Decodes ``&...;`` at ``pos`` like TDLib: returns (code point, next position) or (0, pos)."""
    size = len(text)
    end = pos + 1
    code = 0
    if end < size and text[end] == "#":
        end += 1
        if end < size and text[end] == "x":
            end += 1
            while end < size and text[end] in "0123456789abcdefABCDEF":
                code = code * 16 + int(text[end], 16)
                end += 1
        else:
            while end < size and text[end] in "0123456789":
                code = code * 10 + int(text[end])
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while end < size and text[end].isascii() and text[end].isalpha():
            end += 1
        code = {"lt": 0x3C, "gt": 0x3E, "amp": 0x26, "quot": 0x22}.get(text[pos + 1 : end], 0)
        if code == 0:
            return 0, pos
    if end < size and text[end] == ";":
        end += 1
    return code, end


def _link_user_id(url: str) -> int | None:
    match = re.fullmatch(r"(?i)tg://user\?id=(\d{1,19})", url.strip())
    return int(match.group(1)) if match else None


_DOMAIN_LABEL = re.compile(r"(?!-)[\w-]{1,63}(?<!-)")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")


def _checked_link(url: str) -> str:
    """Telegram's idea of a valid link: the normalized URL, or "" if Telegram would refuse it."""
    url = url.strip()
    if not url or any(ch.isspace() for ch in url):
        return ""
    lowered = url.lower()
    if lowered.startswith(("tg:", "ton:")):
        return url if url.split(":", 1)[1].lstrip("/") else ""
    if "://" not in url:
        url = "http://" + url
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https"):
        return ""
    host = parts.hostname or ""
    if not _IPV4.fullmatch(host):
        labels = host.split(".")
        if len(labels) < 2 or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels):
            return ""
        if labels[-1].isdigit():
            return ""
    if not parts.path:
        url = urlunsplit((parts.scheme, parts.netloc, "/", parts.query, parts.fragment))
    return url


def _link_entity(offset: int, length: int, url: str) -> JSON | None:
    user_id = _link_user_id(url)
    if user_id is not None:
        user = {"id": user_id, "is_bot": False, "first_name": ""}
        return _entity("text_mention", offset, length, user=user)
    checked = _checked_link(url)
    return _entity("text_link", offset, length, url=checked) if checked else None


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """Parses Bot API HTML into (plain text, entities), raising TDLib's errors (a port)."""
    size = len(source)

    def at(index: int) -> str:
        return source[index] if index < size else "\0"

    def offset_of(index: int) -> int:
        return _byte_offset(source, index)

    out: list[str] = []
    entities: list[JSON] = []
    # (tag name, argument, UTF-16 offset, index into ``out``)
    nested: list[tuple[str, str, int, int]] = []
    utf16 = 0
    has_surrogates = False
    i = 0
    while i < size:
        c = source[i]
        if c == "&":
            code, next_i = _decode_html_entity(source, i)
            if code:
                has_surrogates = has_surrogates or 0xD800 <= code <= 0xDFFF
                out.append(chr(code))
                utf16 += 2 if code > 0xFFFF else 1
                i = next_i
                continue
        if c != "<":
            out.append(c)
            utf16 += _u16(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != "/":
            # a start tag
            while not _is_space(at(i)) and at(i) != ">":
                i += 1
            if at(i) == "\0":
                raise _ParseError(f"Unclosed start tag at byte offset {offset_of(begin)}")
            tag = source[begin + 1 : i].lower()
            if tag not in _HTML_TAGS:
                raise _ParseError(
                    f'Unsupported start tag "{tag}" at byte offset {offset_of(begin)}'
                )
            argument = ""
            while at(i) != ">":
                while at(i) != "\0" and _is_space(at(i)):
                    i += 1
                if at(i) == ">":
                    break
                attribute_begin = i
                while not _is_space(at(i)) and at(i) not in "=>":
                    i += 1
                attribute = source[attribute_begin:i]
                if not attribute:
                    raise _ParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset '
                        f"{offset_of(begin)}"
                    )
                while at(i) != "\0" and _is_space(at(i)):
                    i += 1
                if at(i) != "=":
                    if tag == "blockquote" and attribute.lower() == "expandable":
                        argument = "1"
                        continue
                    raise _ParseError(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {offset_of(begin)}'
                    )
                i += 1
                while at(i) != "\0" and _is_space(at(i)):
                    i += 1
                if at(i) == "\0":
                    raise _ParseError(
                        f'Unclosed start tag "{tag}" at byte offset {offset_of(begin)}'
                    )
                if at(i) not in "'\"":
                    token_begin = i
                    while at(i).isascii() and (at(i).isalnum() or at(i) in ".-"):
                        i += 1
                    value = source[token_begin:i].lower()
                    if not _is_space(at(i)) and at(i) != ">":
                        raise _ParseError(
                            f"Unexpected end of name token at byte offset {offset_of(token_begin)}"
                        )
                else:
                    quote = at(i)
                    i += 1
                    chars: list[str] = []
                    while at(i) != quote and at(i) != "\0":
                        if at(i) == "&":
                            code, next_i = _decode_html_entity(source, i)
                            if code:
                                chars.append(chr(code))
                                i = next_i
                                continue
                        chars.append(source[i])
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = "".join(chars)
                if at(i) == "\0":
                    raise _ParseError(f"Unclosed start tag at byte offset {offset_of(begin)}")
                if tag == "a" and attribute == "href":
                    argument = value
                elif tag == "code" and attribute == "class" and value.startswith("language-"):
                    argument = value[9:]
                elif tag == "span" and attribute == "class" and value.startswith("tg-"):
                    argument = value[3:]
                elif tag == "tg-emoji" and attribute == "emoji-id":
                    argument = value
            if tag == "span" and argument != "spoiler":
                raise _ParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {offset_of(begin)}'
                )
            nested.append((tag, argument, utf16, len(out)))
            i += 1
            continue

        # an end tag
        if not nested:
            raise _ParseError(f"Unexpected end tag at byte offset {offset_of(begin)}")
        while not _is_space(at(i)) and at(i) != ">":
            i += 1
        end_tag = source[begin + 2 : i].lower()
        while _is_space(at(i)) and at(i) != "\0":
            i += 1
        if at(i) != ">":
            raise _ParseError(f"Unclosed end tag at byte offset {offset_of(begin)}")
        tag, argument, entity_offset, out_begin = nested[-1]
        if end_tag and end_tag != tag:
            raise _ParseError(
                f'Unmatched end tag at byte offset {offset_of(begin)}, expected "</{tag}>", '
                f'found "</{end_tag}>"'
            )
        if utf16 > entity_offset:
            length = utf16 - entity_offset
            last = entities[-1] if entities else None
            same_span = (
                last is not None and last["offset"] == entity_offset and last["length"] == length
            )
            if tag in ("i", "em"):
                entities.append(_entity("italic", entity_offset, length))
            elif tag in ("b", "strong"):
                entities.append(_entity("bold", entity_offset, length))
            elif tag in ("s", "strike", "del"):
                entities.append(_entity("strikethrough", entity_offset, length))
            elif tag in ("u", "ins"):
                entities.append(_entity("underline", entity_offset, length))
            elif tag in ("tg-spoiler", "span"):
                entities.append(_entity("spoiler", entity_offset, length))
            elif tag == "tg-emoji":
                if not argument.isdigit() or int(argument) == 0:
                    raise _ParseError("Invalid custom emoji identifier specified")
                entities.append(
                    _entity("custom_emoji", entity_offset, length, custom_emoji_id=argument)
                )
            elif tag == "a":
                url = argument or "".join(out[out_begin:])
                link = _link_entity(entity_offset, length, url)
                if link is not None:
                    entities.append(link)
            elif tag == "pre":
                if last is not None and same_span and last["type"] == "code" and last.get("_lang"):
                    last["type"] = "pre"
                    last["language"] = last.pop("_lang")
                else:
                    entities.append(_entity("pre", entity_offset, length))
            elif tag == "code":
                if last is not None and same_span and last["type"] == "pre" and argument:
                    last["language"] = argument
                else:
                    entities.append(_entity("code", entity_offset, length, _lang=argument or None))
            elif tag == "blockquote":
                kind = "expandable_blockquote" if argument == "1" else "blockquote"
                entities.append(_entity(kind, entity_offset, length))
        nested.pop()
        i += 1

    if nested:
        raise _ParseError(f'Can\'t find end tag corresponding to start tag "{nested[-1][0]}"')
    if has_surrogates:
        raise _ParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, check for "
            "unmatched surrogate code units"
        )
    for entity in entities:
        entity.pop("_lang", None)
    return "".join(out), _sort_entities(entities)


def parse_markdown(source: str) -> tuple[str, list[JSON]]:
    """Parses legacy Bot API Markdown into (plain text, entities) (a port of TDLib)."""
    size = len(source)

    def at(index: int) -> str:
        return source[index] if index < size else "\0"

    out: list[str] = []
    entities: list[JSON] = []
    utf16 = 0
    i = 0
    while i < size:
        c = source[i]
        if c == "\\" and at(i + 1) in "_*`[" and i + 1 < size:
            out.append(source[i + 1])
            utf16 += 1
            i += 2
            continue
        if c not in "_*`[":
            out.append(c)
            utf16 += _u16(c)
            i += 1
            continue
        begin = i
        end_character = "]" if c == "[" else c
        is_pre = False
        language = ""
        i += 1
        if c == "`" and at(i) == "`" and at(i + 1) == "`":
            i += 2
            is_pre = True
            language_end = i
            while not _is_space(at(language_end)) and at(language_end) != "`":
                language_end += 1
            if i != language_end and language_end < size and at(language_end) != "`":
                language = source[i:language_end]
                i = language_end
            if at(i) in "\n\r" and i < size:
                if at(i + 1) in "\n\r" and i + 1 < size and at(i) != at(i + 1):
                    i += 2
                else:
                    i += 1
        entity_offset = utf16
        while i < size and (
            source[i] != end_character or (is_pre and not (at(i + 1) == "`" and at(i + 2) == "`"))
        ):
            out.append(source[i])
            utf16 += _u16(source[i])
            i += 1
        if i == size:
            raise _ParseError(
                "Can't find end of the entity starting at byte offset "
                f"{_byte_offset(source, begin)}"
            )
        if entity_offset != utf16:
            length = utf16 - entity_offset
            if c == "_":
                entities.append(_entity("italic", entity_offset, length))
            elif c == "*":
                entities.append(_entity("bold", entity_offset, length))
            elif c == "[":
                if at(i + 1) != "(":
                    url = source[begin + 1 : i]
                else:
                    i += 2
                    url_chars: list[str] = []
                    while i < size and source[i] != ")":
                        url_chars.append(source[i])
                        i += 1
                    url = "".join(url_chars)
                link = _link_entity(entity_offset, length, url)
                if link is not None:
                    entities.append(link)
            elif is_pre:
                entities.append(_entity("pre", entity_offset, length, language=language or None))
            else:
                entities.append(_entity("code", entity_offset, length))
        if is_pre:
            i += 2
        i += 1
    return "".join(out), _sort_entities(entities)


def parse_markdown_v2(source: str) -> tuple[str, list[JSON]]:
    """Parses Bot API MarkdownV2 into (plain text, entities) (a port of TDLib)."""
    size = len(source)

    def at(index: int) -> str:
        return source[index] if index < size else "\0"

    def reserved_error(ch: str) -> _ParseError:
        return _ParseError(
            f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
        )

    @dataclass
    class Open:
        kind: str
        argument: str
        offset: int
        byte_index: int
        out_begin: int

    out: list[str] = []
    entities: list[JSON] = []
    nested: list[Open] = []
    have_blockquote = False
    utf16 = 0
    i = 0
    while i < size:
        c = source[i]
        if c == "\\" and 0 < ord(at(i + 1)) <= 126 and i + 1 < size:
            out.append(source[i + 1])
            utf16 += 1
            i += 2
            continue
        reserved = "_*[]()~`>#+-=|{}.!\n"
        if nested and nested[-1].kind in ("code", "pre", "pre_code"):
            reserved = "`"
        if c not in reserved:
            out.append(c)
            utf16 += _u16(c)
            i += 1
            continue

        is_end = False
        if nested:
            top = nested[-1].kind
            if have_blockquote and c == "\n" and (i + 1 == size or source[i + 1] != ">"):
                is_end = True
            elif top == "bold":
                is_end = c == "*"
            elif top == "italic":
                is_end = c == "_" and at(i + 1) != "_"
            elif top == "code":
                is_end = c == "`"
            elif top in ("pre", "pre_code"):
                is_end = c == "`" and at(i + 1) == "`" and at(i + 2) == "`"
            elif top in ("text_link", "custom_emoji"):
                is_end = c == "]"
            elif top == "underline":
                is_end = c == "_" and at(i + 1) == "_"
            elif top == "strikethrough":
                is_end = c == "~"
            elif top == "spoiler":
                is_end = c == "|" and at(i + 1) == "|"

        if not is_end:
            byte_index = i
            argument = ""
            kind: str | None
            if c == "_":
                if at(i + 1) == "_":
                    kind = "underline"
                    i += 1
                else:
                    kind = "italic"
            elif c == "*":
                kind = "bold"
            elif c == "~":
                kind = "strikethrough"
            elif c == "|":
                if at(i + 1) != "|":
                    raise reserved_error(c)
                i += 1
                kind = "spoiler"
            elif c == "[":
                kind = "text_link"
            elif c == "`":
                if at(i + 1) == "`" and at(i + 2) == "`":
                    i += 3
                    kind = "pre"
                    language_end = i
                    while not _is_space(at(language_end)) and at(language_end) != "`":
                        language_end += 1
                    if i != language_end and language_end < size and at(language_end) != "`":
                        kind = "pre_code"
                        argument = source[i:language_end]
                        i = language_end
                    if at(i) in "\n\r" and i < size:
                        if at(i + 1) in "\n\r" and i + 1 < size and at(i) != at(i + 1):
                            i += 2
                        else:
                            i += 1
                    i -= 1
                else:
                    kind = "code"
            elif c == "!":
                if at(i + 1) != "[":
                    raise reserved_error(c)
                i += 1
                kind = "custom_emoji"
            elif c == "\n":
                utf16 += 1
                out.append("\n")
                kind = None
                if i + 1 < size and source[i + 1] == ">":
                    i += 1
                    if not have_blockquote:
                        kind = "blockquote"
                        have_blockquote = True
            elif c == ">":
                if i != 0:
                    raise reserved_error(c)
                kind = "blockquote"
                have_blockquote = True
            else:
                raise reserved_error(c)
            if kind is not None:
                nested.append(Open(kind, argument, utf16, byte_index, len(out)))
            i += 1
            continue

        # the end of an entity
        top_entity = nested[-1]
        kind = top_entity.kind
        if c == "\n" and kind != "blockquote":
            raise _ParseError(
                f"Can't find end of {_TDLIB_TYPE_NAMES[kind]} entity at byte offset "
                f"{_byte_offset(source, top_entity.byte_index)}"
            )
        argument = top_entity.argument
        skip_entity = utf16 == top_entity.offset
        new_entity: JSON | None = None
        length = utf16 - top_entity.offset
        if kind in ("bold", "italic", "code", "strikethrough"):
            new_entity = _entity(kind, top_entity.offset, length)
        elif kind in ("underline", "spoiler"):
            i += 1
            new_entity = _entity(kind, top_entity.offset, length)
        elif kind in ("pre", "pre_code"):
            i += 2
            new_entity = _entity("pre", top_entity.offset, length, language=argument or None)
        elif kind in ("text_link", "custom_emoji"):
            if at(i + 1) != "(":
                if kind == "custom_emoji":
                    raise _ParseError("Custom emoji entity must contain a tg://emoji URL")
                url = "".join(out[top_entity.out_begin :])
            else:
                i += 2
                url_begin = i
                url_chars: list[str] = []
                while i < size and source[i] != ")":
                    if source[i] == "\\" and 0 < ord(at(i + 1)) <= 126:
                        url_chars.append(source[i + 1])
                        i += 2
                        continue
                    url_chars.append(source[i])
                    i += 1
                if at(i) != ")":
                    what = "a custom emoji URL" if kind == "custom_emoji" else "a URL"
                    raise _ParseError(
                        f"Can't find end of {what} at byte offset "
                        f"{_byte_offset(source, url_begin)}"
                    )
                url = "".join(url_chars)
            if kind == "custom_emoji":
                match = re.fullmatch(r"(?i)tg://emoji\?id=(\d+)", url)
                if not match:
                    raise _ParseError("Custom emoji URL must have an emoji identifier")
                new_entity = _entity(
                    "custom_emoji", top_entity.offset, length, custom_emoji_id=match.group(1)
                )
            else:
                new_entity = _link_entity(top_entity.offset, length, url)
        elif kind == "blockquote":
            have_blockquote = False
            out.append(source[i])
            utf16 += 1  # TDLib counts the closing newline into the quote
            new_entity = _entity("blockquote", top_entity.offset, length + 1)
        if not skip_entity and new_entity is not None:
            entities.append(new_entity)
        nested.pop()
        i += 1

    if have_blockquote and nested and nested[-1].kind == "blockquote":
        length = utf16 - nested[-1].offset
        if length:
            entities.append(_entity("blockquote", nested[-1].offset, length))
        nested.pop()
    if nested:
        raise _ParseError(
            f"Can't find end of {_TDLIB_TYPE_NAMES[nested[-1].kind]} entity at byte offset "
            f"{_byte_offset(source, nested[-1].byte_index)}"
        )
    return "".join(out), _sort_entities(entities)


_BOT_COMMAND_RE = re.compile(
    r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32}|(?!@))(?![\w/<>])"
)
_MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{2,32}(?![\w@])")
_HASHTAG_RE = re.compile(r"(?<![\w#])#\w{1,256}(?![\w#])")
_EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_URL_RE = re.compile(
    r"(?i)(?<![\w@/.])(?:https?://|www\.)[^\s<>\"'，。！？、；：（）【】《》「」]+"
)
_BLOCKING_ENTITY_TYPES = frozenset({"code", "pre", "text_link", "text_mention", "custom_emoji"})


def _utf16_prefix(text: str) -> list[int]:
    prefix = [0]
    for ch in text:
        prefix.append(prefix[-1] + _u16(ch))
    return prefix


def find_entities(text: str, existing: list[JSON] | None = None) -> list[JSON]:
    """Entities Telegram detects by itself: bot commands, mentions, hashtags, URLs, e-mails."""
    existing = existing or []
    prefix = _utf16_prefix(text)
    taken: list[tuple[int, int]] = [
        (e["offset"], e["offset"] + e["length"])
        for e in existing
        if e["type"] in _BLOCKING_ENTITY_TYPES
    ]
    found: list[JSON] = []
    candidates: list[tuple[int, int, str]] = []
    for kind, pattern in (
        ("url", _URL_RE),
        ("email", _EMAIL_RE),
        ("bot_command", _BOT_COMMAND_RE),
        ("mention", _MENTION_RE),
        ("hashtag", _HASHTAG_RE),
    ):
        for match in pattern.finditer(text):
            start, end = match.span()
            if kind == "url":
                while end > start and text[end - 1] in ".,;:!?)]}'\"":
                    end -= 1
            if kind == "hashtag" and not any(ch.isalpha() for ch in text[start + 1 : end]):
                continue
            candidates.append((start, end, kind))
    for start, end, kind in candidates:
        begin16, end16 = prefix[start], prefix[end]
        if any(begin16 < stop and end16 > first for first, stop in taken):
            continue
        taken.append((begin16, end16))
        found.append(_entity("email" if kind == "email" else kind, begin16, end16 - begin16))
    return found


def _trim(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Strips leading and trailing whitespace as Telegram does, keeping entities aligned."""
    stripped_left = text.lstrip(_TRIM_CHARS)
    result = stripped_left.rstrip(_TRIM_CHARS)
    if result == text:
        return text, entities
    shift = utf16_len(text[: len(text) - len(stripped_left)])
    total = utf16_len(result)
    kept: list[JSON] = []
    for entity in entities:
        start = max(0, entity["offset"] - shift)
        end = min(total, entity["offset"] + entity["length"] - shift)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return result, kept


def _clean_entities(raw: Any, text: str) -> list[JSON]:
    if not isinstance(raw, list):
        raise _bad("can't parse entities JSON object")
    total = utf16_len(text)
    entities: list[JSON] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise _bad('can\'t parse MessageEntity: field "type" must be of type String')
        offset, length = _to_int(item.get("offset")), _to_int(item.get("length"))
        if offset < 0 or length <= 0 or offset >= total:
            continue
        entity = dict(item)
        entity["offset"], entity["length"] = offset, min(length, total - offset)
        entities.append(entity)
    return entities


def format_text(
    text: str, parse_mode: Any = None, entities: Any = None
) -> tuple[str, list[JSON], str | None]:
    """Applies parse_mode or explicit entities the way the Bot API does.

    Returns (plain text, sorted entities, normalized parse mode). Raises ``_ApiError``.
    """
    mode: str | None = None
    if entities is not None:
        parsed = _clean_entities(entities, text)
    elif parse_mode:
        mode = str(parse_mode).strip().lower()
        parsers = {"html": parse_html, "markdown": parse_markdown, "markdownv2": parse_markdown_v2}
        parser = parsers.get(mode)
        if parser is None:
            raise _bad("unsupported parse_mode")
        try:
            text, parsed = parser(text)
        except _ParseError as exc:
            raise _bad(f"can't parse entities: {exc}") from exc
    else:
        parsed = []
    text, parsed = _trim(text, parsed)
    parsed = parsed + find_entities(text, parsed)
    return text, _sort_entities(parsed), mode


# --------------------------------------------------------------------------------------------
# Images and files


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def make_jpeg(width: int = 800, height: int = 600, *, comment: str = "") -> bytes:
    """A valid baseline grey JPEG of the given size (every block is flat mid-grey).

    The Huffman tables hold one code each, so each 8x8 block encodes as two zero bits.
    """
    if not (1 <= width <= 65535 and 1 <= height <= 65535):
        raise ValueError("JPEG dimensions must be 1..65535")
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    bits = 2 * blocks
    scan = bytearray(bits // 8)
    if bits % 8:
        scan.append(0xFF >> (bits % 8))  # pad the last byte with 1-bits
    if scan and scan[-1] == 0xFF:
        scan.append(0x00)  # byte stuffing
    parts = [
        b"\xff\xd8",
        _jpeg_segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
    ]
    if comment:
        parts.append(_jpeg_segment(0xFE, comment.encode("utf-8")[:60000]))
    parts += [
        _jpeg_segment(0xDB, b"\x00" + b"\x01" * 64),
        _jpeg_segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"),
        _jpeg_segment(0xC4, b"\x00" + b"\x01" + b"\x00" * 15 + b"\x00"),
        _jpeg_segment(0xC4, b"\x10" + b"\x01" + b"\x00" * 15 + b"\x00"),
        _jpeg_segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
        bytes(scan),
        b"\xff\xd9",
    ]
    return b"".join(parts)


def image_size(data: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) of a JPEG, PNG, GIF or WebP image, or None if it is not one."""
    if data[:3] == b"\xff\xd8\xff":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                return None
            marker = data[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            (length,) = struct.unpack(">H", data[i + 2 : i + 4])
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return ("jpeg", width, height) if width and height else None
            i += 2 + length
        return None
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return ("png", width, height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return ("gif", width, height)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8X":
            width = 1 + int.from_bytes(data[24:27], "little")
            height = 1 + int.from_bytes(data[27:30], "little")
            return ("webp", width, height)
        if chunk == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return ("webp", width & 0x3FFF, height & 0x3FFF)
        if chunk == b"VP8L":
            b0, b1, b2, b3 = data[21:25]
            width = 1 + (((b1 & 0x3F) << 8) | b0)
            height = 1 + (((b3 & 0x0F) << 10) | (b2 << 2) | ((b1 & 0xC0) >> 6))
            return ("webp", width, height)
    return None


def _fake_webp(width: int, height: int) -> bytes:
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00" * 4
    vp8x += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x


def _photo_dimensions(width: int, height: int) -> list[tuple[int, int]]:
    """The sizes Telegram stores for a photo: thumbnails up to 90/320/800/1280, then the photo."""
    sizes: list[tuple[int, int]] = []
    longest = max(width, height)
    for limit in (90, 320, 800, 1280):
        if longest <= limit:
            break
        scale = limit / longest
        sizes.append((max(1, round(width * scale)), max(1, round(height * scale))))
    if longest > 2560:
        scale = 2560 / longest
        sizes.append((max(1, round(width * scale)), max(1, round(height * scale))))
    else:
        sizes.append((width, height))
    return sizes


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    kind: str  # photo, document, sticker, voice
    content: bytes
    size: int
    mime_type: str | None = None
    file_name: str | None = None
    width: int | None = None
    height: int | None = None
    file_path: str | None = None


_FILE_ID_PREFIX = {"photo": "AgAC", "document": "BQAC", "sticker": "CAAC", "voice": "AwAC"}
_TDLIB_FILE_TYPE = {
    "photo": "Photo",
    "document": "Document",
    "sticker": "Sticker",
    "voice": "Voice",
}


def _parse_multipart(
    body: bytes, content_type: str
) -> tuple[dict[str, str], dict[str, FileTuple]]:
    """Splits a multipart/form-data body into text fields and files (name, content, mime)."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise ValueError("multipart body without boundary")
    delimiter = b"--" + match.group(1).encode("latin-1")
    fields: dict[str, str] = {}
    files: dict[str, FileTuple] = {}
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        part = part.removeprefix(b"\r\n").removesuffix(b"\r\n")
        head, _, content = part.partition(b"\r\n\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name_match = re.search(r'(?:^|;)\s*name="((?:[^"\\]|\\.)*)"', disposition)
        if not name_match:
            continue
        name = unquote(name_match.group(1).replace('\\"', '"'))
        file_match = re.search(r'filename="((?:[^"\\]|\\.)*)"', disposition)
        if file_match:
            file_name = unquote(file_match.group(1).replace('\\"', '"'))
            mime = headers.get("content-type", "application/octet-stream")
            files[name] = (file_name, content, mime)
        else:
            fields[name] = content.decode("utf-8", "replace")
    return fields, files


# --------------------------------------------------------------------------------------------
# Parameters


_JSON_PARAMS = _words(
    "reply_markup entities caption_entities reply_parameters allowed_updates commands "
    "scope menu_button link_preview_options message_ids media"
)
_INT_PARAMS = _words(
    "message_id offset limit timeout reply_to_message_id cache_time user_id message_thread_id"
)
_BOOL_PARAMS = _words(
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


def _to_int(value: Any) -> int:
    """Reads an integer as Telegram does: leading digits count, anything else is 0."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    match = re.match(r"\s*(-?\d+)", str(value))
    return int(match.group(1)) if match else 0


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "yes", "1")


def _chat_ref(value: Any) -> int | str:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if re.fullmatch(r"-?\d+", text) else text


def _decode_params(raw: Mapping[str, Any]) -> JSON:
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
                    raise _bad(message) from exc
        elif key in _INT_PARAMS:
            value = _to_int(value)
        elif key in _BOOL_PARAMS:
            value = _to_bool(value)
        elif key in ("chat_id", "from_chat_id"):
            value = _chat_ref(value)
        elif isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        params[key] = value
    return params


def _public(value: Any) -> Any:
    """A deep copy without the fake's private ``_fields``, as the bot gets it."""
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, list):
        return [_public(item) for item in value]
    return value


def _now() -> int:
    return int(time.time())


# --------------------------------------------------------------------------------------------
# Users, chats, state


@dataclass(frozen=True)
class FakeUser:
    """A Telegram user for simulations. ``forward_privacy`` hides them in forwards."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "zh-hans"
    is_bot: bool = False
    forward_privacy: bool = False

    def to_dict(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


UserLike = Mapping[str, Any] | FakeUser


@dataclass
class _Chat:
    info: JSON
    messages: dict[int, JSON] = field(default_factory=dict)
    deleted: list[JSON] = field(default_factory=list)
    next_message_id: int = 1
    blocked: bool = False
    bot_left: bool = False
    bot_is_admin: bool = False
    members: dict[int, tuple[JSON, str]] = field(default_factory=dict)
    reply_keyboard: JSON | None = None

    @property
    def id(self) -> int:
        return int(self.info["id"])

    @property
    def type(self) -> str:
        return str(self.info["type"])


@dataclass
class _Fault:
    kind: str  # "429", "server_error", "network_error", "timeout"
    remaining: int
    methods: frozenset[str] | None
    retry_after: int = 0


@dataclass
class _PollTicket:
    generation: int
    limit: int
    deadline: float


def _api_methods() -> dict[str, str]:
    names: dict[str, str] = {}
    for name in dir(Bot):
        if (
            name[:1].islower()
            and "_" not in name
            and name not in ("initialize", "shutdown")
            and callable(getattr(Bot, name, None))
        ):
            names[name.lower()] = name
    return names


_REAL_API_METHODS = _api_methods()
_IMPLEMENTED = _words(
    "getMe logOut close setWebhook deleteWebhook getWebhookInfo getUpdates "
    "setMyCommands getMyCommands deleteMyCommands setChatMenuButton getChatMenuButton "
    "setMyDescription getMyDescription setMyShortDescription getMyShortDescription "
    "setMyName getMyName sendMessage editMessageText editMessageCaption "
    "editMessageReplyMarkup deleteMessage deleteMessages answerCallbackQuery "
    "forwardMessage copyMessage sendPhoto sendDocument getFile sendChatAction getChat "
    "getChatMember leaveChat pinChatMessage unpinChatMessage"
)
_IMPLEMENTED_BY_LOWER = {name.lower(): name for name in _IMPLEMENTED}
_TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]+")


class FakeTelegram:
    """The state of a fake Bot API server: chats, messages, files, updates and failures.

    Thread-safe: it is used from asyncio (in-process) and from HTTP server threads at once.
    """

    def __init__(
        self,
        token: str = "123456:TEST",
        bot_username: str = "hedong_union_bot",
        bot_name: str = "河东区总工会服务助手",
        *,
        privacy_mode: bool = True,
    ) -> None:
        if not _TOKEN_RE.fullmatch(token):
            raise ValueError("a bot token looks like '<digits>:<letters>'")
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.privacy_mode = privacy_mode

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._chats: dict[int, _Chat] = {}
        self._users: dict[int, JSON] = {}
        self._hidden_forwarders: set[int] = set()
        self._files: dict[str, _StoredFile] = {}
        self._photo_sets: dict[str, list[str]] = {}
        self._paths: dict[str, str] = {}
        self._file_counter = 0
        self._queue: list[JSON] = []
        self._last_update_id = 100_000
        self._allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self._poll_generation = 0
        self._interrupted_upto = 0
        self._webhook_url = ""
        self._callback_queries: dict[str, JSON] = {}
        self._faults: list[_Fault] = []
        self._descriptions: dict[tuple[str, str], str] = {}

        #: Every Bot API call: (method name, decoded parameters). Uploads appear as
        #: ``{"upload": file name, "size": bytes, "mime_type": ...}`` under their field.
        self.calls: list[tuple[str, JSON]] = []
        #: Every error answer: (method, HTTP status, description).
        self.errors: list[tuple[str, int, str]] = []
        #: Parameters of every successful answerCallbackQuery.
        self.callback_answers: list[JSON] = []
        #: setMyCommands results by (scope key, language code); see :meth:`commands_for`.
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        #: setChatMenuButton results by chat id (None: the default button).
        self.menu_buttons: dict[int | None, JSON] = {}
        #: Updates Telegram would not deliver to the bot (group privacy mode).
        self.undelivered: list[JSON] = []

    # ---------------------------------------------------------------- properties

    @property
    def bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    # ---------------------------------------------------------------- simulation

    def register_chat(
        self,
        chat_id: int,
        *,
        type: str = "private",
        title: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        bot_is_admin: bool = False,
    ) -> JSON:
        """Creates (or updates) a chat the bot is in and returns its Chat JSON.

        Groups and supergroups have negative ids and need a title; private chats have the
        user's id. ``bot_is_admin`` lets the bot see every group message and delete others'.
        """
        if type not in ("private", "group", "supergroup", "channel"):
            raise ValueError(f"unknown chat type {type!r}")
        if type == "private" and chat_id <= 0:
            raise ValueError("private chats have the user's (positive) id")
        if type != "private" and chat_id >= 0:
            raise ValueError("group, supergroup and channel ids are negative")
        info: JSON = {"id": chat_id, "type": type}
        if type == "private":
            info["first_name"] = first_name or "User"
            if last_name:
                info["last_name"] = last_name
        else:
            info["title"] = title or f"Chat {chat_id}"
        if username:
            info["username"] = username
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None:
                chat = self._chats[chat_id] = _Chat(info=info)
            else:
                chat.info = info
            chat.bot_is_admin = bot_is_admin
            chat.bot_left = False
            return dict(info)

    def set_member(self, chat_id: int, user: UserLike, status: str = "member") -> None:
        """Sets a user's status in a group ("creator", "administrator", "member", "left")."""
        with self._lock:
            chat = self._require_chat(chat_id)
            data = self._remember_user(user)
            chat.members[data["id"]] = (data, status)

    def user_message(
        self,
        user: UserLike,
        chat_id: int | None = None,
        text: str | None = None,
        *,
        reply_to_message_id: int | None = None,
        photo: bool | bytes = False,
        document: FileTuple | None = None,
        sticker: bool = False,
        voice: bool = False,
        location: tuple[float, float] | None = None,
        forward_from: UserLike | None = None,
        caption: str | None = None,
        file_size: int | None = None,
        enqueue: bool = True,
    ) -> JSON:
        """A user sends a message; returns the ``message`` Update (queued for getUpdates).

        ``chat_id`` defaults to the user's private chat. ``photo`` may be bytes of an image.
        ``file_size`` declares a larger size for ``document`` without allocating it. Texts over
        4096 characters raise ValueError: Telegram clients split them into several messages.
        """
        kinds = [bool(photo), document is not None, sticker, voice, location is not None]
        if sum(kinds) > 1:
            raise ValueError("a message carries at most one kind of media")
        with self._lock:
            sender = self._remember_user(user)
            chat = self._chat_for_user(sender, chat_id)
            if chat.type == "channel":
                raise ValueError("channel posts are not simulated")
            if chat.blocked and chat.type == "private":
                # A user who blocked the bot presses "Restart" before writing again.
                self._set_blocked(chat, False, by=sender, enqueue=enqueue)
            msg = self._new_message(chat, sender)
            body = caption if caption is not None else text
            if photo:
                content = photo if isinstance(photo, bytes) else None
                if content is not None and image_size(content) is None:
                    raise ValueError("photo bytes must be a JPEG, PNG, GIF or WebP image")
                msg["photo"] = self._store_photo(content)
            elif document is not None:
                name, data, mime = document
                stored = self._store_file("document", data, mime, name, size=file_size)
                msg["document"] = self._document_json(stored)
            elif sticker:
                stored = self._store_file("sticker", _fake_webp(512, 512), "image/webp", None)
                msg["sticker"] = {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "emoji": "👍",
                    "set_name": "FakeStickers",
                    "file_size": stored.size,
                }
            elif voice:
                stored = self._store_file("voice", b"OggS" + bytes(1020), "audio/ogg", None)
                msg["voice"] = {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "duration": 2,
                    "mime_type": "audio/ogg",
                    "file_size": stored.size,
                }
            elif location is not None:
                msg["location"] = {"latitude": location[0], "longitude": location[1]}
            has_caption_media = bool(photo) or document is not None or voice
            if has_caption_media:
                if body:
                    value, entities, _ = format_text(body)
                    if len(value) > MAX_CAPTION_LENGTH:
                        raise ValueError("captions are at most 1024 characters")
                    if value:
                        msg["caption"] = value
                        if entities:
                            msg["caption_entities"] = entities
            elif sticker or location is not None:
                if body:
                    raise ValueError("stickers and locations have no text or caption")
            else:
                value, entities, _ = format_text(body or "")
                if not value:
                    raise ValueError("a text message needs non-blank text")
                if len(value) > MAX_TEXT_LENGTH:
                    raise ValueError(
                        "Telegram clients split texts over 4096 characters into several "
                        "messages; send the parts separately"
                    )
                msg["text"] = value
                if entities:
                    msg["entities"] = entities
            if forward_from is not None:
                msg["forward_origin"] = self._origin_for(forward_from, date=_now() - 60)
            if reply_to_message_id is not None:
                target = chat.messages.get(reply_to_message_id)
                if target is None:
                    raise ValueError(f"no message {reply_to_message_id} in chat {chat.id}")
                msg["reply_to_message"] = self._snapshot(target)
            self._commit(chat, msg)
            if chat.type != "private":
                chat.members.setdefault(sender["id"], (sender, "member"))
            return self._emit("message", _public(msg), enqueue, self._bot_sees(chat, msg))

    def user_edits(
        self,
        user: UserLike,
        chat_id: int,
        message_id: int,
        new_text: str,
        enqueue: bool = True,
    ) -> JSON:
        """A user edits their text (or caption); returns the ``edited_message`` Update."""
        with self._lock:
            sender = self._remember_user(user)
            chat = self._require_chat(chat_id)
            msg = chat.messages.get(message_id)
            if msg is None:
                raise ValueError(f"no message {message_id} in chat {chat_id}")
            if msg["from"]["id"] != sender["id"]:
                raise ValueError("users can only edit their own messages")
            value, entities, _ = format_text(new_text)
            field_name = "text" if "text" in msg else "caption"
            if not value and field_name == "text":
                raise ValueError("a text message needs non-blank text")
            msg[field_name] = value
            entities_key = "entities" if field_name == "text" else "caption_entities"
            msg.pop(entities_key, None)
            if entities:
                msg[entities_key] = entities
            msg["edit_date"] = _now()
            return self._emit("edited_message", _public(msg), enqueue, self._bot_sees(chat, msg))

    def press_button(
        self,
        user: UserLike,
        chat_id: int,
        message_id: int,
        callback_data: str,
        enqueue: bool = True,
    ) -> JSON:
        """A user presses an inline button; returns the ``callback_query`` Update.

        The data need not be on the message (old or forged buttons are possible on Telegram).
        """
        with self._lock:
            sender = self._remember_user(user)
            chat = self._require_chat(chat_id)
            msg = chat.messages.get(message_id)
            if msg is None:
                raise ValueError(f"no message {message_id} in chat {chat_id}")
            query_id = str(secrets.randbits(63))
            self._callback_queries[query_id] = {
                "answered": False,
                "chat_id": chat_id,
                "message_id": message_id,
                "data": callback_data,
            }
            query = {
                "id": query_id,
                "from": sender,
                "message": _public(msg),
                "chat_instance": str((chat_id * 1_000_003) ^ self.bot_id),
                "data": callback_data,
            }
            return self._emit("callback_query", query, enqueue, True)

    def block(self, chat_id: int, *, enqueue: bool = True) -> JSON | None:
        """The user blocks the bot (or the bot is removed from a group).

        Sends then fail with 403. Returns the ``my_chat_member`` Update Telegram sends.
        """
        with self._lock:
            return self._set_blocked(self._require_chat(chat_id), True, by=None, enqueue=enqueue)

    def unblock(self, chat_id: int, *, enqueue: bool = True) -> JSON | None:
        """The user unblocks the bot (or adds it back); returns the ``my_chat_member`` Update."""
        with self._lock:
            chat = self._require_chat(chat_id)
            chat.bot_left = False
            return self._set_blocked(chat, False, by=None, enqueue=enqueue)

    # ---------------------------------------------------------------- failure injection

    def inject_429(
        self, count: int = 1, retry_after: int = 1, methods: set[str] | None = None
    ) -> None:
        """The next ``count`` calls (of ``methods``, or any but getUpdates) answer 429."""
        with self._lock:
            self._faults.append(_Fault("429", count, self._method_set(methods), retry_after))

    def fail_next(
        self, count: int = 1, method: str | None = None, mode: FailureMode = "server_error"
    ) -> None:
        """The next ``count`` calls (of ``method``, or any but getUpdates) fail.

        ``server_error``: 500 ``Internal Server Error`` (PTB raises NetworkError), nothing done.
        ``network_error``: the connection drops before Telegram gets the call (NetworkError).
        ``timeout``: Telegram carries the call out, then the answer is lost (TimedOut), so a
        retry sends a duplicate, as on the real network.
        """
        with self._lock:
            methods = self._method_set({method} if method else None)
            self._faults.append(_Fault(mode, count, methods, 0))

    @staticmethod
    def _method_set(methods: set[str] | None) -> frozenset[str] | None:
        return frozenset(m.lower() for m in methods) if methods else None

    # ---------------------------------------------------------------- inspection

    def chat(self, chat_id: int) -> JSON | None:
        with self._lock:
            chat = self._chats.get(chat_id)
            return dict(chat.info) if chat else None

    def messages(self, chat_id: int) -> list[JSON]:
        """The chat's messages in order, as they are now (edits applied, deletions gone).

        Bot messages sent with a parse mode keep the source in ``_source`` (and ``_html``).
        """
        with self._lock:
            chat = self._chats.get(chat_id)
            return copy.deepcopy(list(chat.messages.values())) if chat else []

    def message(self, chat_id: int, message_id: int) -> JSON | None:
        with self._lock:
            chat = self._chats.get(chat_id)
            msg = chat.messages.get(message_id) if chat else None
            return copy.deepcopy(msg) if msg else None

    def deleted_messages(self, chat_id: int) -> list[JSON]:
        with self._lock:
            chat = self._chats.get(chat_id)
            return copy.deepcopy(chat.deleted) if chat else []

    def bot_messages(self, chat_id: int) -> list[JSON]:
        return [m for m in self.messages(chat_id) if m["from"]["id"] == self.bot_id]

    def last_bot_message(self, chat_id: int) -> JSON | None:
        messages = self.bot_messages(chat_id)
        return messages[-1] if messages else None

    def reply_keyboard(self, chat_id: int) -> JSON | None:
        """The reply keyboard the bot last showed in the chat (None after removal)."""
        with self._lock:
            chat = self._chats.get(chat_id)
            return copy.deepcopy(chat.reply_keyboard) if chat else None

    def calls_of(self, method: str) -> list[JSON]:
        with self._lock:
            return [params for name, params in self.calls if name.lower() == method.lower()]

    def pending_updates(self) -> list[JSON]:
        """Updates queued for getUpdates and not yet confirmed."""
        with self._lock:
            return copy.deepcopy(self._queue)

    def commands_for(self, scope: str = "default", language_code: str = "") -> list[JSON]:
        """Commands set for a scope key: "default", "all_private_chats", "all_group_chats",
        "all_chat_administrators", "chat:<id>", "chat_administrators:<id>",
        "chat_member:<chat id>:<user id>"."""
        with self._lock:
            return copy.deepcopy(self.commands.get((scope, language_code), []))

    def download(self, file_path: str) -> bytes | None:
        """The content of a file by the ``file_path`` getFile gave, or None."""
        with self._lock:
            file_id = self._paths.get(file_path)
            return self._files[file_id].content if file_id else None

    def interrupt_polls(self) -> None:
        """Makes waiting getUpdates calls return [] now (used when a server stops)."""
        with self._cond:
            self._interrupted_upto = self._poll_generation
            self._poll_generation += 1
            self._cond.notify_all()

    # ---------------------------------------------------------------- the Bot API

    def check_token(self, token: str) -> tuple[int, JSON] | None:
        """None if the token is the bot's, else Telegram's answer (401 or 404)."""
        if token == self.token:
            return None
        if _TOKEN_RE.fullmatch(token):
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}

    def handle(
        self,
        method: str,
        params: Mapping[str, Any],
        files: Mapping[str, FileTuple] | None = None,
        *,
        abandoned: Callable[[], bool] | None = None,
    ) -> tuple[int, JSON]:
        """Answers one Bot API call: (HTTP status, Telegram's JSON answer).

        getUpdates long-polls (blocks this thread up to ``timeout`` seconds; ``abandoned``
        tells it the client went away, so it stops quietly). Raises
        :class:`SimulatedNetworkFailure` for injected network failures.
        """
        outcome = self._dispatch(method, params, files)
        if isinstance(outcome, _PollTicket):
            return self._wait_ticket(outcome, abandoned)
        return outcome

    def _dispatch(
        self,
        method: str,
        params: Mapping[str, Any],
        files: Mapping[str, FileTuple] | None,
    ) -> tuple[int, JSON] | _PollTicket:
        """Answers a call, or returns a ticket for a getUpdates that has to wait."""
        lowered = method.lower()
        name = _IMPLEMENTED_BY_LOWER.get(lowered) or _REAL_API_METHODS.get(lowered) or method
        file_map = dict(files or {})
        with self._lock:
            raw = {k: v for k, v in params.items() if v is not None}
            self.calls.append((name, {**raw, **_describe_uploads(file_map)}))
            fault = None
            try:
                decoded = _decode_params(params)
                self.calls[-1] = (name, {**decoded, **_describe_uploads(file_map)})
                if lowered not in _IMPLEMENTED_BY_LOWER:
                    if lowered in _REAL_API_METHODS:
                        raise _ApiError(
                            501, f"Not Implemented: the fake Telegram has no {name} method"
                        )
                    raise _ApiError(404, "Not Found")
                fault = self._take_fault(lowered)
                if fault is not None:
                    if fault.kind == "429":
                        raise _ApiError(
                            429,
                            f"Too Many Requests: retry after {fault.retry_after}",
                            {"retry_after": fault.retry_after},
                        )
                    if fault.kind == "server_error":
                        raise _ApiError(500, "Internal Server Error")
                    if fault.kind == "network_error":
                        raise SimulatedNetworkFailure(processed=False)
                handler = getattr(self, "_api_" + _IMPLEMENTED_BY_LOWER[lowered])
                result = handler(decoded, file_map)
                if isinstance(result, _PollTicket):
                    return result
                if fault is not None and fault.kind == "timeout":
                    raise SimulatedNetworkFailure(processed=True)
                if isinstance(result, tuple):  # (result, description)
                    return 200, {"ok": True, "result": result[0], "description": result[1]}
                return 200, {"ok": True, "result": _public(result)}
            except _ApiError as exc:
                self.errors.append((name, exc.code, exc.description))
                return exc.code, exc.payload()

    def _take_fault(self, lowered: str) -> _Fault | None:
        for fault in self._faults:
            matches = (
                lowered in fault.methods if fault.methods is not None else lowered != "getupdates"
            )
            if matches and fault.remaining > 0:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    # ---------------------------------------------------------------- internals

    def _remember_user(self, user: UserLike) -> JSON:
        if isinstance(user, FakeUser):
            data = user.to_dict()
            if user.forward_privacy:
                self._hidden_forwarders.add(user.id)
        else:
            if "id" not in user or "first_name" not in user:
                raise ValueError("a user needs 'id' and 'first_name'")
            data = {k: v for k, v in user.items() if v is not None and not str(k).startswith("_")}
            data.setdefault("is_bot", False)
            data["id"] = int(data["id"])
        self._users[data["id"]] = data
        return dict(data)

    def _require_chat(self, chat_id: int) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise ValueError(f"chat {chat_id} is not registered; call register_chat() first")
        return chat

    def _chat_for_user(self, sender: JSON, chat_id: int | None) -> _Chat:
        chat_id = sender["id"] if chat_id is None else chat_id
        chat = self._chats.get(chat_id)
        if chat is None:
            if chat_id != sender["id"]:
                raise ValueError(f"chat {chat_id} is not registered; call register_chat() first")
            self.register_chat(
                chat_id,
                first_name=sender["first_name"],
                last_name=sender.get("last_name"),
                username=sender.get("username"),
            )
            chat = self._chats[chat_id]
        elif chat.type == "private" and chat_id != sender["id"]:
            raise ValueError("only its own user writes in a private chat")
        return chat

    def _new_message(self, chat: _Chat, sender: JSON) -> JSON:
        msg: JSON = {
            "message_id": chat.next_message_id,
            "from": dict(sender),
            "chat": dict(chat.info),
            "date": _now(),
        }
        chat.next_message_id += 1
        return msg

    def _commit(self, chat: _Chat, msg: JSON) -> None:
        chat.messages[msg["message_id"]] = msg

    @staticmethod
    def _snapshot(msg: JSON) -> JSON:
        snapshot = _public(msg)
        snapshot.pop("reply_to_message", None)
        return dict(snapshot)

    def _emit(self, kind: str, payload: JSON, enqueue: bool, delivered: bool) -> JSON:
        self._last_update_id += 1
        update = {"update_id": self._last_update_id, kind: payload}
        if enqueue:
            if not delivered:
                self.undelivered.append(copy.deepcopy(update))
            elif kind in self._allowed_updates:
                self._queue.append(copy.deepcopy(update))
                self._cond.notify_all()
        return update

    def _bot_sees(self, chat: _Chat, msg: JSON) -> bool:
        """Group privacy mode: which group messages Telegram delivers to the bot."""
        if chat.type in ("private", "channel") or not self.privacy_mode or chat.bot_is_admin:
            return True
        reply = msg.get("reply_to_message")
        if reply and reply.get("from", {}).get("id") == self.bot_id:
            return True
        text = msg.get("text") or msg.get("caption") or ""
        for entity in msg.get("entities") or msg.get("caption_entities") or []:
            piece = utf16_slice(text, entity["offset"], entity["length"])
            if entity["type"] == "bot_command":
                _, _, target = piece.partition("@")
                if not target or target.lower() == self.bot_username.lower():
                    return True
            if entity["type"] == "mention" and piece[1:].lower() == self.bot_username.lower():
                return True
        return False

    def _origin_for(self, who: UserLike | JSON, date: int) -> JSON:
        if isinstance(who, Mapping) and "type" in who and "id" not in who:
            return dict(who)  # already a MessageOrigin
        user = self._remember_user(who)
        if user["id"] in self._hidden_forwarders:
            name = " ".join(filter(None, [user.get("first_name"), user.get("last_name")]))
            return {"type": "hidden_user", "sender_user_name": name, "date": date}
        return {"type": "user", "sender_user": user, "date": date}

    def _set_blocked(
        self, chat: _Chat, blocked: bool, *, by: JSON | None, enqueue: bool
    ) -> JSON | None:
        if chat.blocked == blocked:
            return None
        chat.blocked = blocked
        bot = self.bot_user
        if chat.type == "private":
            actor = (
                by
                or self._users.get(chat.id)
                or {
                    "id": chat.id,
                    "is_bot": False,
                    "first_name": chat.info.get("first_name", "User"),
                }
            )
            old_status, new_status = ("member", "kicked") if blocked else ("kicked", "member")
        else:
            actor = by or {"id": 777000, "is_bot": False, "first_name": "Telegram"}
            before = "administrator" if chat.bot_is_admin else "member"
            old_status, new_status = (before, "left") if blocked else ("left", before)
        update = {
            "chat": dict(chat.info),
            "from": actor,
            "date": _now(),
            "old_chat_member": self._member_json(bot, old_status),
            "new_chat_member": self._member_json(bot, new_status),
        }
        return self._emit("my_chat_member", update, enqueue, True)

    @staticmethod
    def _member_json(user: JSON, status: str) -> JSON:
        member: JSON = {"status": status, "user": user}
        if status == "kicked":
            member["until_date"] = 0
        elif status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                {
                    key: False
                    for key in (
                        "can_be_edited",
                        "is_anonymous",
                        "can_manage_video_chats",
                        "can_restrict_members",
                        "can_promote_members",
                        "can_change_info",
                        "can_post_stories",
                        "can_edit_stories",
                        "can_delete_stories",
                    )
                }
            )
            member.update(
                {
                    "can_manage_chat": True,
                    "can_delete_messages": True,
                    "can_invite_users": True,
                    "can_pin_messages": True,
                }
            )
        return member

    # files ------------------------------------------------------------------------------

    def _new_file_ids(self, kind: str) -> tuple[str, str]:
        self._file_counter += 1
        token = secrets.token_urlsafe(36).replace("-", "_")
        prefix = _FILE_ID_PREFIX.get(kind, "BQAC")
        return (
            f"{prefix}AgIAAxkBAAI{self._file_counter:05d}{token}",
            f"AQAD{self._file_counter:04d}{secrets.token_urlsafe(6)}",
        )

    def _store_file(
        self,
        kind: str,
        content: bytes,
        mime_type: str | None,
        file_name: str | None,
        *,
        size: int | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> _StoredFile:
        file_id, unique_id = self._new_file_ids(kind)
        stored = _StoredFile(
            file_id=file_id,
            file_unique_id=unique_id,
            kind=kind,
            content=content,
            size=max(size or 0, len(content)),
            mime_type=mime_type,
            file_name=file_name,
            width=width,
            height=height,
        )
        self._files[file_id] = stored
        return stored

    def _store_photo(self, content: bytes | None) -> list[JSON]:
        """Stores a photo as Telegram does (several sizes) and returns its PhotoSize list."""
        if content is None:
            dimensions = [(90, 68), (800, 600)]
            original = make_jpeg(800, 600, comment=f"fake photo {self._file_counter}")
        else:
            info = image_size(content)
            if info is None:
                raise _bad("IMAGE_PROCESS_FAILED")
            dimensions = _photo_dimensions(info[1], info[2])
            original = content
        sizes: list[_StoredFile] = []
        for index, (width, height) in enumerate(dimensions):
            last = index == len(dimensions) - 1
            data = original if last else make_jpeg(width, height)
            sizes.append(
                self._store_file("photo", data, "image/jpeg", None, width=width, height=height)
            )
        ids = [s.file_id for s in sizes]
        for file_id in ids:
            self._photo_sets[file_id] = ids
        return [self._photo_size_json(s) for s in sizes]

    @staticmethod
    def _photo_size_json(stored: _StoredFile) -> JSON:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "width": stored.width,
            "height": stored.height,
        }

    @staticmethod
    def _document_json(stored: _StoredFile) -> JSON:
        data: JSON = {
            "file_name": stored.file_name,
            "mime_type": stored.mime_type,
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
        }
        return {k: v for k, v in data.items() if v is not None}

    def _input_file(
        self, params: JSON, files: dict[str, FileTuple], field_name: str
    ) -> FileTuple | _StoredFile:
        """The upload for ``field_name`` or the stored file its file_id names."""
        value = params.get(field_name)
        upload = files.get(field_name)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value[len("attach://") :])
            value = None
        if upload is not None:
            name, data, mime = upload
            if len(data) > MAX_UPLOAD_SIZE:
                raise _ApiError(413, "Request Entity Too Large")
            if not data:
                raise _bad("file must be non-empty")
            return name, data, mime
        if not value:
            raise _bad(f"there is no {field_name} in the request")
        value = str(value).strip()
        if value.lower().startswith(("http://", "https://")):
            raise _bad("failed to get HTTP URL content")
        stored = self._files.get(value)
        if stored is None:
            raise _bad("wrong file identifier/HTTP URL specified")
        return stored

    # sending -------------------------------------------------------------------------------

    def _resolve_chat(self, value: Any, *, empty: str = "chat_id is empty") -> _Chat:
        if value is None or value == "":
            raise _bad(empty)
        if isinstance(value, str):
            username = value.removeprefix("@").lower()
            for chat in self._chats.values():
                if str(chat.info.get("username", "")).lower() == username and value[:1] == "@":
                    return chat
            raise _bad("chat not found")
        found = self._chats.get(int(value))
        if found is None:
            raise _bad("chat not found")
        return found

    @staticmethod
    def _check_can_send(chat: _Chat) -> None:
        kind = "supergroup chat" if chat.type == "supergroup" else f"{chat.type} chat"
        if chat.blocked:
            if chat.type == "private":
                raise _forbidden("bot was blocked by the user")
            raise _forbidden(f"bot was kicked from the {kind}")
        if chat.bot_left:
            raise _forbidden(f"bot is not a member of the {kind}")

    def _reply_target(self, chat: _Chat, params: JSON) -> tuple[str, JSON] | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id = _to_int(reply.get("message_id"))
            allow = _to_bool(reply.get("allow_sending_without_reply", False))
            target_chat = chat
            if reply.get("chat_id") not in (None, ""):
                target_chat = self._resolve_chat(_chat_ref(reply["chat_id"]))
        elif params.get("reply_to_message_id"):
            message_id = params["reply_to_message_id"]
            allow = bool(params.get("allow_sending_without_reply", False))
            target_chat = chat
        else:
            return None
        if not message_id:
            return None
        target = target_chat.messages.get(message_id)
        if target is None:
            if allow:
                return None
            raise _bad("message to be replied not found")
        if target_chat is chat:
            return "reply_to_message", self._snapshot(target)
        origin = self._origin_for(target["from"], target["date"])
        external = {"origin": origin, "chat": dict(target_chat.info), "message_id": message_id}
        return "external_reply", external

    def _parse_reply_markup(self, value: Any) -> tuple[JSON | None, JSON | None]:
        """Validates reply_markup: (inline keyboard for the message, other keyboard markup)."""
        if value is None:
            return None, None
        if not isinstance(value, dict):
            raise _bad("object expected as reply markup")
        if "inline_keyboard" in value:
            rows = value["inline_keyboard"]
            if not isinstance(rows, list):
                raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
            clean_rows: list[list[JSON]] = []
            count = 0
            for row in rows:
                if not isinstance(row, list):
                    raise _bad(
                        'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array '
                        "of Arrays"
                    )
                clean_row = [self._inline_button(button) for button in row]
                count += len(clean_row)
                if clean_row:
                    clean_rows.append(clean_row)
            if count > MAX_INLINE_BUTTONS:
                raise _bad("reply markup is too long")
            return ({"inline_keyboard": clean_rows} if clean_rows else None), None
        if "keyboard" in value:
            rows = value["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad(
                    'field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays'
                )
            for row in rows:
                for button in row:
                    if not isinstance(button, str | dict):
                        raise _bad(
                            "can't parse keyboard button: KeyboardButton must be a String or "
                            "an Object"
                        )
            return None, dict(value)
        if value.get("remove_keyboard") or value.get("force_reply"):
            return None, dict(value)
        return None, None

    @staticmethod
    def _inline_button(button: Any) -> JSON:
        prefix = "can't parse inline keyboard button: "
        if not isinstance(button, dict):
            raise _bad(prefix + "InlineKeyboardButton must be an Object")
        text = button.get("text")
        if not isinstance(text, str):
            raise _bad(prefix + 'Field "text" must be of type String')
        url = button.get("url")
        if url:
            if not isinstance(url, str) or not (_checked_link(url) or _link_user_id(url)):
                raise _bad("BUTTON_URL_INVALID")
            return {"text": text, "url": url}
        data = button.get("callback_data")
        if data not in (None, ""):
            if not isinstance(data, str):
                raise _bad(prefix + 'Field "callback_data" must be of type String')
            if len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
                raise _bad("BUTTON_DATA_INVALID")
            return {"text": text, "callback_data": data}
        for key in (
            "web_app",
            "login_url",
            "switch_inline_query",
            "switch_inline_query_current_chat",
            "switch_inline_query_chosen_chat",
            "copy_text",
            "callback_game",
            "pay",
        ):
            if key in button:
                return {"text": text, key: button[key]}
        raise _bad(prefix + "Text buttons are unallowed in the inline keyboard")

    def _caption(self, params: JSON) -> tuple[str, list[JSON], str | None]:
        caption = params.get("caption")
        if caption is None:
            return "", [], None
        text, entities, mode = format_text(
            str(caption), params.get("parse_mode"), params.get("caption_entities")
        )
        if len(text) > MAX_CAPTION_LENGTH:
            raise _bad("message caption is too long")
        return text, entities, mode

    def _send(
        self,
        params: JSON,
        content: JSON,
        *,
        source: str | None = None,
        mode: str | None = None,
    ) -> JSON:
        """Stores a bot message built from ``content`` after the checks Telegram makes."""
        inline, other = self._parse_reply_markup(params.get("reply_markup"))
        chat = self._resolve_chat(params.get("chat_id"))
        reply = self._reply_target(chat, params)
        self._check_can_send(chat)
        msg = self._new_message(chat, self.bot_user)
        msg.update(content)
        if reply is not None:
            msg[reply[0]] = reply[1]
        if inline is not None:
            msg["reply_markup"] = inline
        if other is not None:
            msg["_reply_markup"] = other
            if "keyboard" in other:
                chat.reply_keyboard = copy.deepcopy(other)
            elif other.get("remove_keyboard"):
                chat.reply_keyboard = None
        if params.get("protect_content"):
            msg["has_protected_content"] = True
        if mode is not None and source is not None:
            msg["_parse_mode"] = mode
            msg["_source"] = source
            if mode == "html":
                msg["_html"] = source
        self._commit(chat, msg)
        return msg

    def _text_content(self, params: JSON) -> tuple[JSON, str, str | None]:
        raw = params.get("text")
        source = "" if raw is None else str(raw)
        text, entities, mode = format_text(
            source, params.get("parse_mode"), params.get("entities")
        )
        if not text:
            raise _bad("message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            raise _bad("message is too long")
        content: JSON = {"text": text}
        if entities:
            content["entities"] = entities
        return content, source, mode

    def _edit_target(self, params: JSON) -> tuple[_Chat, JSON]:
        if params.get("inline_message_id"):
            raise _bad("MESSAGE_ID_INVALID")
        chat = self._resolve_chat(params.get("chat_id"))
        message_id = params.get("message_id")
        if not message_id:
            raise _bad("message identifier is not specified")
        msg = chat.messages.get(message_id)
        if msg is None:
            raise _bad("message to edit not found")
        if msg["from"]["id"] != self.bot_id:
            raise _bad("message can't be edited")
        self._check_can_send(chat)
        return chat, msg

    # ---------------------------------------------------------------- API methods

    def _api_getMe(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _api_logOut(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        return True

    def _api_close(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        return True

    def _api_setWebhook(self, params: JSON, files: dict[str, FileTuple]) -> tuple[bool, str]:
        url = str(params.get("url") or "")
        if url and not url.lower().startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        if params.get("drop_pending_updates"):
            self._queue.clear()
        if url:
            self._webhook_url = url
            self.interrupt_polls()
            return True, "Webhook was set"
        was_set = bool(self._webhook_url)
        self._webhook_url = ""
        return True, "Webhook was deleted" if was_set else "Webhook is already deleted"

    def _api_deleteWebhook(self, params: JSON, files: dict[str, FileTuple]) -> tuple[bool, str]:
        if params.get("drop_pending_updates"):
            self._queue.clear()
        was_set = bool(self._webhook_url)
        self._webhook_url = ""
        return True, "Webhook was deleted" if was_set else "Webhook is already deleted"

    def _api_getWebhookInfo(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        info: JSON = {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }
        if self._webhook_url:
            info["max_connections"] = 40
        return info

    def _api_getUpdates(self, params: JSON, files: dict[str, FileTuple]) -> _PollTicket:
        if self._webhook_url:
            raise _ApiError(409, CONFLICT_WEBHOOK)
        offset = params.get("offset", 0)
        limit = min(max(params.get("limit", 100) or 100, 1), 100)
        timeout = min(max(params.get("timeout", 0), 0), MAX_POLL_TIMEOUT)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(str(a) for a in allowed) or DEFAULT_ALLOWED_UPDATES
        if offset > 0:
            self._queue = [u for u in self._queue if u["update_id"] >= offset]
        elif offset < 0:
            self._queue = self._queue[offset:]
        self._poll_generation += 1
        self._cond.notify_all()
        return _PollTicket(self._poll_generation, limit, time.monotonic() + timeout)

    def _poll_step(self, ticket: _PollTicket) -> tuple[int, JSON] | None:
        """One look at the queue for a waiting getUpdates: its answer, or None to keep waiting."""
        with self._lock:
            if ticket.generation != self._poll_generation:
                if ticket.generation <= self._interrupted_upto:
                    return 200, {"ok": True, "result": []}
                self.errors.append(("getUpdates", 409, CONFLICT_OTHER_POLL))
                return 409, {"ok": False, "error_code": 409, "description": CONFLICT_OTHER_POLL}
            if self._queue:
                return 200, {"ok": True, "result": copy.deepcopy(self._queue[: ticket.limit])}
            if time.monotonic() >= ticket.deadline:
                return 200, {"ok": True, "result": []}
            return None

    def _wait_ticket(
        self, ticket: _PollTicket, abandoned: Callable[[], bool] | None = None
    ) -> tuple[int, JSON]:
        with self._cond:
            while True:
                if abandoned is not None and abandoned():
                    return 200, {"ok": True, "result": []}  # nobody will read the answer
                answer = self._poll_step(ticket)
                if answer is not None:
                    return answer
                self._cond.wait(timeout=max(0.0, min(ticket.deadline - time.monotonic(), 0.2)))

    def _scope_key(self, scope: Any) -> str:
        if scope is None:
            return "default"
        if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
            raise _bad("can't parse BotCommandScope JSON object")
        kind = scope["type"]
        if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            return str(kind)
        if kind not in ("chat", "chat_administrators", "chat_member"):
            raise _bad("wrong bot command scope type specified")
        chat = self._resolve_chat(_chat_ref(scope.get("chat_id", "")))
        if kind != "chat" and chat.type == "private":
            raise _bad("can't use specified scope in private chats")
        if kind == "chat_member":
            user_id = _to_int(scope.get("user_id"))
            if user_id <= 0:
                raise _bad("invalid user_id specified")
            return f"chat_member:{chat.id}:{user_id}"
        return f"{kind}:{chat.id}"

    @staticmethod
    def _language(params: JSON) -> str:
        language = str(params.get("language_code") or "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise _bad("invalid language code specified")
        return language

    def _api_setMyCommands(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        commands = params.get("commands", [])
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        clean: list[JSON] = []
        for item in commands:
            if not isinstance(item, dict):
                raise _bad("can't parse BotCommand: BotCommand must be an Object")
            command = str(item.get("command") or "").removeprefix("/")
            description = str(item.get("description") or "")
            if not command:
                raise _bad("command must be non-empty")
            if len(command) > 32:
                raise _bad("command length must not exceed 32")
            if not description.strip():
                raise _bad("command description must be non-empty")
            if len(description) > 256:
                raise _bad("command description length must not exceed 256")
            if not re.fullmatch(r"[a-z0-9_]+", command):
                raise _bad("BOT_COMMAND_INVALID")
            clean.append({"command": command, "description": description})
        key = (self._scope_key(params.get("scope")), self._language(params))
        if clean:
            self.commands[key] = clean
        else:
            self.commands.pop(key, None)
        return True

    def _api_getMyCommands(self, params: JSON, files: dict[str, FileTuple]) -> list[JSON]:
        key = (self._scope_key(params.get("scope")), self._language(params))
        return copy.deepcopy(self.commands.get(key, []))

    def _api_deleteMyCommands(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        key = (self._scope_key(params.get("scope")), self._language(params))
        self.commands.pop(key, None)
        return True

    def _api_setChatMenuButton(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        chat_id: int | None = None
        if params.get("chat_id") not in (None, ""):
            chat = self._resolve_chat(params["chat_id"])
            if chat.type != "private":
                raise _bad("chat_id must be a private chat")
            chat_id = chat.id
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in (
            "default",
            "commands",
            "web_app",
        ):
            raise _bad("can't parse menu button: MenuButton must be an Object")
        self.menu_buttons[chat_id] = dict(button)
        return True

    def _api_getChatMenuButton(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        chat_id = None
        if params.get("chat_id") not in (None, ""):
            chat_id = self._resolve_chat(params["chat_id"]).id
        button = self.menu_buttons.get(chat_id) or self.menu_buttons.get(None)
        return dict(button or {"type": "default"})

    def _set_text_setting(self, params: JSON, kind: str, key: str, limit: int) -> bool:
        value = str(params.get(key) or "")
        if len(value) > limit:
            raise _bad(f"bot {kind} is too long")
        self._descriptions[(kind, self._language(params))] = value
        return True

    def _get_text_setting(self, params: JSON, kind: str, key: str) -> JSON:
        return {key: self._descriptions.get((kind, self._language(params)), "")}

    def _api_setMyDescription(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        return self._set_text_setting(params, "description", "description", 512)

    def _api_getMyDescription(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        return self._get_text_setting(params, "description", "description")

    def _api_setMyShortDescription(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        return self._set_text_setting(params, "short description", "short_description", 120)

    def _api_getMyShortDescription(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        return self._get_text_setting(params, "short description", "short_description")

    def _api_setMyName(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        return self._set_text_setting(params, "name", "name", 64)

    def _api_getMyName(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        result = self._get_text_setting(params, "name", "name")
        return {"name": result["name"] or self.bot_name}

    def _api_sendMessage(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        content, source, mode = self._text_content(params)
        return self._send(params, content, source=source, mode=mode)

    def _api_editMessageText(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        content, source, mode = self._text_content(params)
        inline, other = self._parse_reply_markup(params.get("reply_markup"))
        if other is not None:
            raise _bad("inline keyboard expected")
        _, msg = self._edit_target(params)
        if "text" not in msg:
            raise _bad("there is no text in the message to edit")
        same_text = msg["text"] == content["text"] and msg.get("entities", []) == content.get(
            "entities", []
        )
        if same_text and msg.get("reply_markup") == inline:
            raise _bad(NOT_MODIFIED)
        msg["text"] = content["text"]
        msg.pop("entities", None)
        if "entities" in content:
            msg["entities"] = content["entities"]
        self._apply_markup(msg, inline)
        self._remember_source(msg, source, mode)
        msg["edit_date"] = _now()
        return msg

    def _api_editMessageCaption(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        caption, entities, mode = self._caption(params)
        inline, other = self._parse_reply_markup(params.get("reply_markup"))
        if other is not None:
            raise _bad("inline keyboard expected")
        _, msg = self._edit_target(params)
        if not any(key in msg for key in ("photo", "document", "voice", "video", "audio")):
            raise _bad("there is no caption in the message to edit")
        same = msg.get("caption", "") == caption and msg.get("caption_entities", []) == entities
        if same and msg.get("reply_markup") == inline:
            raise _bad(NOT_MODIFIED)
        msg.pop("caption", None)
        msg.pop("caption_entities", None)
        if caption:
            msg["caption"] = caption
            if entities:
                msg["caption_entities"] = entities
        self._apply_markup(msg, inline)
        self._remember_source(msg, str(params.get("caption") or ""), mode)
        msg["edit_date"] = _now()
        return msg

    def _api_editMessageReplyMarkup(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        inline, other = self._parse_reply_markup(params.get("reply_markup"))
        if other is not None:
            raise _bad("inline keyboard expected")
        _, msg = self._edit_target(params)
        if msg.get("reply_markup") == inline:
            raise _bad(NOT_MODIFIED)
        self._apply_markup(msg, inline)
        msg["edit_date"] = _now()
        return msg

    @staticmethod
    def _apply_markup(msg: JSON, inline: JSON | None) -> None:
        if inline is None:
            msg.pop("reply_markup", None)
        else:
            msg["reply_markup"] = inline

    @staticmethod
    def _remember_source(msg: JSON, source: str, mode: str | None) -> None:
        for key in ("_parse_mode", "_source", "_html"):
            msg.pop(key, None)
        if mode is not None:
            msg["_parse_mode"] = mode
            msg["_source"] = source
            if mode == "html":
                msg["_html"] = source

    def _delete_one(self, chat: _Chat, message_id: int) -> None:
        msg = chat.messages.get(message_id)
        if msg is None:
            raise _bad("message to delete not found")
        own = msg["from"]["id"] == self.bot_id
        if chat.type in ("group", "supergroup") and not own and not chat.bot_is_admin:
            raise _bad("message can't be deleted")
        chat.deleted.append(chat.messages.pop(message_id))

    def _api_deleteMessage(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        chat = self._resolve_chat(params.get("chat_id"))
        if not params.get("message_id"):
            raise _bad("message identifier is not specified")
        self._delete_one(chat, params["message_id"])
        return True

    def _api_deleteMessages(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        chat = self._resolve_chat(params.get("chat_id"))
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not ids:
            raise _bad("message identifiers are not specified")
        if len(ids) > 100:
            raise _bad("too many message identifiers specified")
        # Telegram skips messages it can't find or delete here instead of failing.
        for message_id in map(_to_int, ids):
            msg = chat.messages.get(message_id)
            if msg is None:
                continue
            own = msg["from"]["id"] == self.bot_id
            if chat.type == "private" or own or chat.bot_is_admin:
                chat.deleted.append(chat.messages.pop(message_id))
        return True

    def _api_answerCallbackQuery(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        query = self._callback_queries.get(query_id)
        if query is None or query["answered"]:
            raise _bad(QUERY_ID_INVALID)
        text = params.get("text")
        if text is not None and len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad("MESSAGE_TOO_LONG")
        query["answered"] = True
        self.callback_answers.append(dict(params))
        return True

    def _content_copy(self, msg: JSON) -> JSON:
        keys = (
            "text",
            "entities",
            "photo",
            "document",
            "sticker",
            "voice",
            "location",
            "caption",
            "caption_entities",
        )
        return {key: copy.deepcopy(msg[key]) for key in keys if key in msg}

    def _api_forwardMessage(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        source_chat = self._resolve_chat(
            params.get("from_chat_id"), empty='parameter "from_chat_id" is required'
        )
        target_chat = self._resolve_chat(params.get("chat_id"))
        original = source_chat.messages.get(params.get("message_id") or 0)
        if original is None:
            raise _bad("message to forward not found")
        if original.get("has_protected_content"):
            raise _bad("the message can't be forwarded")
        self._check_can_send(target_chat)
        msg = self._new_message(target_chat, self.bot_user)
        msg.update(self._content_copy(original))
        if "forward_origin" in original:
            msg["forward_origin"] = copy.deepcopy(original["forward_origin"])
        elif source_chat.type == "channel":
            msg["forward_origin"] = {
                "type": "channel",
                "chat": dict(source_chat.info),
                "message_id": original["message_id"],
                "date": original["date"],
            }
        else:
            msg["forward_origin"] = self._origin_for(original["from"], original["date"])
        if params.get("protect_content"):
            msg["has_protected_content"] = True
        self._commit(target_chat, msg)
        return msg

    def _api_copyMessage(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        source_chat = self._resolve_chat(
            params.get("from_chat_id"), empty='parameter "from_chat_id" is required'
        )
        original = source_chat.messages.get(params.get("message_id") or 0)
        if original is None:
            raise _bad("message to copy not found")
        if original.get("has_protected_content"):
            raise _bad("the message can't be copied")
        content = self._content_copy(original)
        if "caption" in params and "text" not in content:
            caption, entities, _ = self._caption(params)
            content.pop("caption", None)
            content.pop("caption_entities", None)
            if caption:
                content["caption"] = caption
                if entities:
                    content["caption_entities"] = entities
        msg = self._send(params, content)
        return {"message_id": msg["message_id"]}

    def _api_sendPhoto(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        caption, entities, mode = self._caption(params)
        photo = self._input_file(params, files, "photo")
        if isinstance(photo, _StoredFile):
            if photo.kind != "photo":
                raise _bad(f"can't use file of type {_TDLIB_FILE_TYPE[photo.kind]} as Photo")
            sizes = [
                self._photo_size_json(self._files[i]) for i in self._photo_sets[photo.file_id]
            ]
        else:
            _, data, _ = photo
            if len(data) > MAX_PHOTO_UPLOAD_SIZE:
                raise _bad("PHOTO_SAVE_FILE_INVALID")
            info = image_size(data)
            if info is None:
                raise _bad("IMAGE_PROCESS_FAILED")
            _, width, height = info
            if width + height > 10000 or max(width, height) > 20 * min(width, height):
                raise _bad("PHOTO_INVALID_DIMENSIONS")
            sizes = []
        content: JSON = {"photo": sizes}
        if caption:
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        # Store the photo only once every check passed, as Telegram does.
        self._parse_reply_markup(params.get("reply_markup"))
        chat = self._resolve_chat(params.get("chat_id"))
        self._reply_target(chat, params)
        self._check_can_send(chat)
        if not sizes:
            assert not isinstance(photo, _StoredFile)
            content["photo"] = self._store_photo(photo[1])
        return self._send(params, content, source=str(params.get("caption") or ""), mode=mode)

    def _api_sendDocument(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        caption, entities, mode = self._caption(params)
        document = self._input_file(params, files, "document")
        if isinstance(document, _StoredFile):
            if document.kind != "document":
                kind = _TDLIB_FILE_TYPE[document.kind]
                raise _bad(f"can't use file of type {kind} as Document")
            stored: _StoredFile | None = document
        else:
            stored = None
        self._parse_reply_markup(params.get("reply_markup"))
        chat = self._resolve_chat(params.get("chat_id"))
        self._reply_target(chat, params)
        self._check_can_send(chat)
        if stored is None:
            assert not isinstance(document, _StoredFile)
            name, data, mime = document
            stored = self._store_file("document", data, mime, name or "document")
        content: JSON = {"document": self._document_json(stored)}
        if caption:
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        return self._send(params, content, source=str(params.get("caption") or ""), mode=mode)

    def _api_getFile(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        file_id = str(params.get("file_id") or "").strip()
        if not file_id:
            raise _bad("file_id not specified")
        stored = self._files.get(file_id)
        if stored is None:
            raise _bad("invalid file_id")
        if stored.size > MAX_DOWNLOAD_SIZE:
            raise _bad("file is too big")
        if stored.file_path is None:
            folder, extension = {
                "photo": ("photos", ".jpg"),
                "sticker": ("stickers", ".webp"),
                "voice": ("voice", ".oga"),
            }.get(stored.kind, ("documents", ""))
            if stored.kind == "document" and stored.file_name and "." in stored.file_name:
                extension = "." + stored.file_name.rsplit(".", 1)[1]
            stored.file_path = f"{folder}/file_{len(self._paths)}{extension}"
            self._paths[stored.file_path] = stored.file_id
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }

    def _api_sendChatAction(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        chat = self._resolve_chat(params.get("chat_id"))
        if str(params.get("action") or "").lower() not in CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        self._check_can_send(chat)
        return True

    def _api_getChat(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        chat = self._resolve_chat(params.get("chat_id"))
        if chat.bot_left and chat.type != "private":
            raise _forbidden(f"bot is not a member of the {chat.type} chat")
        return {
            **chat.info,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _api_getChatMember(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        chat = self._resolve_chat(params.get("chat_id"))
        user_id = params.get("user_id", 0)
        if user_id <= 0:
            raise _bad("invalid user_id specified")
        if user_id == self.bot_id:
            if chat.blocked:
                status = "kicked"
            elif chat.bot_left:
                status = "left"
            else:
                status = "administrator" if chat.bot_is_admin else "member"
            return self._member_json(self.bot_user, status)
        if chat.type == "private":
            if user_id != chat.id:
                raise _bad("user not found")
            return self._member_json(self._users.get(user_id, {"id": user_id}), "member")
        if user_id in chat.members:
            user, status = chat.members[user_id]
            return self._member_json(user, status)
        if user_id in self._users:
            return self._member_json(self._users[user_id], "left")
        raise _bad("user not found")

    def _api_leaveChat(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        chat = self._resolve_chat(params.get("chat_id"))
        if chat.type == "private":
            raise _bad("chat member status can't be changed in private chats")
        if chat.bot_left:
            raise _forbidden(f"bot is not a member of the {chat.type} chat")
        chat.bot_left = True
        return True

    def _api_pinChatMessage(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        chat = self._resolve_chat(params.get("chat_id"))
        msg = chat.messages.get(params.get("message_id") or 0)
        if msg is None:
            raise _bad("message to pin not found")
        if chat.type in ("group", "supergroup") and not chat.bot_is_admin:
            raise _bad("not enough rights to manage pinned messages in the chat")
        msg["_pinned"] = True
        return True

    def _api_unpinChatMessage(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        chat = self._resolve_chat(params.get("chat_id"))
        if chat.type in ("group", "supergroup") and not chat.bot_is_admin:
            raise _bad("not enough rights to manage pinned messages in the chat")
        for msg in chat.messages.values():
            msg.pop("_pinned", None)
        return True


def _describe_uploads(files: Mapping[str, FileTuple]) -> JSON:
    """How uploads appear in :attr:`FakeTelegram.calls`."""
    return {
        key: {"upload": name, "size": len(data), "mime_type": mime}
        for key, (name, data, mime) in files.items()
    }


# --------------------------------------------------------------------------------------------
# python-telegram-bot in-process transport

_API_PATH = re.compile(r"/bot([^/]+)/([^/]*)$")
_FILE_PATH = re.compile(r"/file/bot([^/]+)/(.+)$")


def _read_content(content: bytes | IO[bytes]) -> bytes:
    return content if isinstance(content, bytes) else content.read()


class FakeRequest(BaseRequest):
    """A python-telegram-bot transport that answers from a :class:`FakeTelegram` in-process.

    Use one instance for ``request`` and another for ``get_updates_request``. getUpdates
    long-polls without blocking the event loop (it looks at the queue every
    ``poll_interval`` seconds) and can be cancelled at once.
    """

    def __init__(
        self,
        fake: FakeTelegram,
        *,
        read_timeout: float | None = 5.0,
        poll_interval: float = 0.01,
    ) -> None:
        self.fake = fake
        self._read_timeout = read_timeout
        self._poll_interval = poll_interval

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        await asyncio.sleep(0)  # a real request always yields to the event loop
        path = unquote(urlsplit(url).path)
        file_match = _FILE_PATH.search(path)
        if file_match:
            refusal = self.fake.check_token(file_match.group(1))
            if refusal is not None:
                return refusal[0], json.dumps(refusal[1]).encode()
            content = self.fake.download(file_match.group(2))
            if content is None:
                body = {"ok": False, "error_code": 404, "description": "Not Found: file not found"}
                return 404, json.dumps(body).encode()
            return 200, content
        api_match = _API_PATH.search(path)
        if not api_match:
            body = {"ok": False, "error_code": 404, "description": "Not Found"}
            return 404, json.dumps(body).encode()
        refusal = self.fake.check_token(api_match.group(1))
        if refusal is not None:
            return refusal[0], json.dumps(refusal[1]).encode()
        params: dict[str, Any] = dict(request_data.json_parameters) if request_data else {}
        files: dict[str, FileTuple] = {}
        if request_data is not None and request_data.contains_files:
            for name, (file_name, data, mime) in request_data.multipart_data.items():
                files[name] = (file_name, _read_content(data), mime)
        try:
            outcome = self.fake._dispatch(api_match.group(2), params, files)
        except SimulatedNetworkFailure as exc:
            if exc.processed:
                raise TimedOut("Timed out (simulated: the call was carried out)") from exc
            raise NetworkError("httpx.ConnectError: simulated network failure") from exc
        if isinstance(outcome, _PollTicket):
            outcome = await self._wait(outcome)
        status, payload = outcome
        return status, json.dumps(payload, ensure_ascii=False).encode("utf-8")

    async def _wait(self, ticket: _PollTicket) -> tuple[int, JSON]:
        while True:
            answer = self.fake._poll_step(ticket)
            if answer is not None:
                return answer
            remaining = ticket.deadline - time.monotonic()
            await asyncio.sleep(max(0.0, min(self._poll_interval, remaining)))


# --------------------------------------------------------------------------------------------
# HTTP server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fake: FakeTelegram) -> None:
        super().__init__(address, _Handler)
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client went away (a cancelled long poll)
            self.close_connection = True

    def _send_json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))

    def _route(self) -> None:
        split = urlsplit(self.path)
        path = unquote(split.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fake = self.server.fake
        if path.startswith("/_fake/"):
            self._control(path[len("/_fake/") :], split.query, body)
            return
        file_match = _FILE_PATH.fullmatch(path)
        if file_match:
            refusal = fake.check_token(file_match.group(1))
            if refusal is not None:
                self._send_json(*refusal)
                return
            content = fake.download(file_match.group(2))
            if content is None:
                self._send_json(
                    404,
                    {"ok": False, "error_code": 404, "description": "Not Found: file not found"},
                )
                return
            self._send(200, content, "application/octet-stream")
            return
        api_match = _API_PATH.fullmatch(path)
        if not api_match:
            self._send_json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        refusal = fake.check_token(api_match.group(1))
        if refusal is not None:
            self._send_json(*refusal)
            return
        params: dict[str, Any] = dict(parse_qsl(split.query, keep_blank_values=True))
        files: dict[str, FileTuple] = {}
        content_type = self.headers.get("Content-Type", "")
        try:
            if content_type.startswith("application/json") and body:
                data = json.loads(body)
                if not isinstance(data, dict):
                    raise ValueError("a JSON object expected")
                params.update(data)
            elif content_type.startswith("application/x-www-form-urlencoded"):
                params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            elif content_type.startswith("multipart/form-data"):
                fields, files = _parse_multipart(body, content_type)
                params.update(fields)
        except ValueError:
            self._send_json(
                400,
                {"ok": False, "error_code": 400, "description": "Bad Request: invalid request"},
            )
            return
        try:
            status, payload = fake.handle(
                api_match.group(2), params, files, abandoned=self._client_gone
            )
        except SimulatedNetworkFailure:
            self.close_connection = True  # drop the connection without an answer
            return
        except Exception as exc:  # a bug in the fake: make it visible to the bot
            description = f"Internal Server Error: fake Telegram failed: {exc!r}"
            self._send_json(500, {"ok": False, "error_code": 500, "description": description})
            return
        if self._client_gone():
            self.close_connection = True
            return
        self._send_json(status, payload)

    def _client_gone(self) -> bool:
        """Whether the client closed the connection (e.g. a cancelled long poll)."""
        readable, _, _ = select.select([self.connection], [], [], 0)
        if not readable:
            return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _control(self, action: str, query: str, body: bytes) -> None:
        """The control API: drive the fake from another process."""
        fake = self.server.fake
        try:
            data: JSON = json.loads(body) if body else {}
            args = {k: v[-1] for k, v in parse_qs(query).items()}
            if action == "messages":
                result: Any = fake.messages(int(args.get("chat_id") or data["chat_id"]))
            elif action == "calls":
                result = [[name, params] for name, params in list(fake.calls)]
            elif action == "updates":
                result = fake.pending_updates()
            elif action == "register_chat":
                chat_id = int(data.pop("chat_id"))
                result = fake.register_chat(chat_id, **data)
            elif action == "user_message":
                document = data.pop("document", None)
                if document is not None:
                    data["document"] = (
                        document["file_name"],
                        bytes.fromhex(document.get("content_hex", "")),
                        document.get("mime_type", "application/octet-stream"),
                    )
                location = data.pop("location", None)
                if location is not None:
                    data["location"] = (float(location[0]), float(location[1]))
                result = fake.user_message(data.pop("user"), **data)
            elif action == "user_edits":
                result = fake.user_edits(
                    data["user"], data["chat_id"], data["message_id"], data["text"]
                )
            elif action == "press_button":
                result = fake.press_button(
                    data["user"], data["chat_id"], data["message_id"], data["callback_data"]
                )
            elif action == "block":
                result = fake.block(int(data["chat_id"]))
            elif action == "unblock":
                result = fake.unblock(int(data["chat_id"]))
            else:
                self._send_json(404, {"ok": False, "description": f"unknown action {action}"})
                return
        except (KeyError, TypeError, ValueError) as exc:
            self._send_json(400, {"ok": False, "description": f"{type(exc).__name__}: {exc}"})
            return
        self._send_json(200, {"ok": True, "result": result})


class FakeTelegramServer:
    """Serves a :class:`FakeTelegram` over HTTP on 127.0.0.1 from a daemon thread.

    Bot API: ``{base_url}<token>/<method>``; files: ``{base_file_url}<token>/<file_path>``;
    control API under ``/_fake/``: ``POST user_message`` ({user, chat_id, text,
    reply_to_message_id, ...}), ``POST user_edits``, ``POST press_button``,
    ``POST register_chat``, ``POST block``/``unblock``, ``GET messages?chat_id=``,
    ``GET calls``, ``GET updates``.
    """

    def __init__(
        self, fake: FakeTelegram | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.fake = fake or FakeTelegram()
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Starts serving; returns the base URL for PTB's ``base_url``."""
        if self._server is None:
            self._server = _Server(self._address, self.fake)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="fake-telegram",
                daemon=True,
            )
            self._thread.start()
        return self.base_url

    @property
    def root_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the server is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        return self.root_url + "/bot"

    @property
    def base_file_url(self) -> str:
        return self.root_url + "/file/bot"

    def stop(self) -> None:
        if self._server is None:
            return
        self.fake.interrupt_polls()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeTelegramServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """``python -m bot.fake_telegram``: serve a fake Telegram until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.fake_telegram", description="Serve a fake Telegram Bot API."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:TEST")
    parser.add_argument("--bot-username", default="hedong_union_bot")
    parser.add_argument("--bot-name", default="河东区总工会服务助手")
    parser.add_argument(
        "--no-privacy", action="store_true", help="let the bot see every group message"
    )
    args = parser.parse_args(argv)
    fake = FakeTelegram(
        args.token, args.bot_username, args.bot_name, privacy_mode=not args.no_privacy
    )
    server = FakeTelegramServer(fake, host=args.host, port=args.port)
    print(server.start(), flush=True)
    print(server.base_file_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
