"""Telegram's text formatting: UTF-16 offsets, entities, and the HTML, Markdown and
MarkdownV2 parsers (ports of TDLib's), with the entities Telegram finds by itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bot.fake.params import to_int
from bot.fake.protocol import JSON, bad, words


class _ParseError(Exception):
    """A formatting error, worded as TDLib words it (after "can't parse entities: ")."""


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
_HTML_TAGS = words(
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


def link_user_id(url: str) -> int | None:
    match = re.fullmatch(r"(?i)tg://user\?id=(\d{1,19})", url.strip())
    return int(match.group(1)) if match else None


_DOMAIN_LABEL = re.compile(r"(?!-)[\w-]{1,63}(?<!-)")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")


def checked_link(url: str) -> str:
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
    user_id = link_user_id(url)
    if user_id is not None:
        user = {"id": user_id, "is_bot": False, "first_name": ""}
        return _entity("text_mention", offset, length, user=user)
    checked = checked_link(url)
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
        raise bad("can't parse entities JSON object")
    total = utf16_len(text)
    entities: list[JSON] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise bad('can\'t parse MessageEntity: field "type" must be of type String')
        offset, length = to_int(item.get("offset")), to_int(item.get("length"))
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

    Returns (plain text, sorted entities, normalized parse mode). Raises ``ApiError``.
    """
    mode: str | None = None
    if entities is not None:
        parsed = _clean_entities(entities, text)
    elif parse_mode:
        mode = str(parse_mode).strip().lower()
        parsers = {"html": parse_html, "markdown": parse_markdown, "markdownv2": parse_markdown_v2}
        parser = parsers.get(mode)
        if parser is None:
            raise bad("unsupported parse_mode")
        try:
            text, parsed = parser(text)
        except _ParseError as exc:
            raise bad(f"can't parse entities: {exc}") from exc
    else:
        parsed = []
    text, parsed = _trim(text, parsed)
    parsed = parsed + find_entities(text, parsed)
    return text, _sort_entities(parsed), mode
