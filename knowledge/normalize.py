"""Bring a member's message into one comparable form before routing."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

# Long stories are a few hundred characters; anything past this adds time, not meaning.
MAX_ROUTED_CHARS = 1000

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_NOT_WORD = re.compile(r"[^0-9a-z\u3400-\u9fff\uf900-\ufaff]+")
_LATIN_LETTER = re.compile(r"[a-z]")
# Quotes set off a thing named indirectly (那个“家”, 工会的“身份证”): they join, not split.
_QUOTES = re.compile(
    '[\u201c\u201d\u2018\u2019"\u300c\u300d\u300e\u300f]'
    # A straight single quote only beside Chinese (那个'家'), never an English apostrophe (it's).
    r"|(?<=[\u3400-\u9fff])'|'(?=[\u3400-\u9fff])"
)


@dataclass(frozen=True, slots=True)
class NormalizedText:
    text: str  # simplified, half-width, lower case; quotes dropped, other symbols single spaces
    is_pinyin: bool  # the member typed the question in pinyin

    @property
    def compact(self) -> str:
        return self.text.replace(" ", "")


class Normalizer:
    """Full-width → half-width, traditional → simplified, typos fixed, no punctuation or emoji."""

    def __init__(self, typos: Mapping[str, str]) -> None:
        # Longest first, so that 汇员卡 is fixed before 汇员.
        self._typos = sorted(typos.items(), key=lambda item: -len(item[0]))

    @cached_property
    def _t2s(self) -> Any:
        import opencc  # loaded on first use: a few milliseconds

        return opencc.OpenCC("t2s")

    @cached_property
    def fingerprint(self) -> str:
        """What the normalised text depends on: this module, the typo table and OpenCC's
        tables. Anything cached from normalised text is keyed by it."""
        from importlib.metadata import PackageNotFoundError, version

        try:
            opencc_version = version("opencc")
        except PackageNotFoundError:
            opencc_version = "?"
        digest = hashlib.sha256(Path(__file__).read_bytes())
        digest.update(repr((self._typos, opencc_version, unicodedata.unidata_version)).encode())
        return digest.hexdigest()

    def normalize(self, raw: str) -> NormalizedText:
        text = "".join(
            char
            for char in raw[:MAX_ROUTED_CHARS]
            if unicodedata.category(char) not in ("Cc", "Cs", "Co", "Cn")
        )
        text = unicodedata.normalize("NFKC", text).casefold()
        # Pinyin may come with tone marks: gōnghuì → gonghui.
        text = self._t2s.convert(text) if _CJK.search(text) else strip_diacritics(text)
        text = _NOT_WORD.sub(" ", unquote(text)).strip()
        for wrong, right in self._typos:
            if wrong in text:
                text = text.replace(wrong, right)
        letters = len(_LATIN_LETTER.findall(text))
        is_pinyin = letters >= 4 and len(_CJK.findall(text)) * 3 < letters
        return NormalizedText(text=text, is_pinyin=is_pinyin)


def unquote(text: str) -> str:
    """Drop quotation marks: 评上那个“家” reads as 评上那个家, so the words around meet."""
    return _QUOTES.sub("", text)


def strip_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


_LATIN_WORD = re.compile(r"[a-z]+")
_VOWEL = re.compile(r"[aeiouy]")
_LONGEST_SYLLABLE = 6  # zhuang, shuang


@cache
def _pinyin_syllables() -> frozenset[str]:
    """Every syllable pypinyin knows, without tones (ü as u, as members type it)."""
    from pypinyin.pinyin_dict import pinyin_dict

    return frozenset(
        strip_diacritics(reading)
        for readings in pinyin_dict.values()
        for reading in readings.split(",")
    )


def is_pinyin_word(word: str) -> bool:
    """True if the word is pinyin syllables run together: zenme, huiyuanka (not join, the)."""
    syllables = _pinyin_syllables()
    reachable = [True] + [False] * len(word)
    for end in range(1, len(word) + 1):
        reachable[end] = any(
            reachable[start] and word[start:end] in syllables
            for start in range(max(0, end - _LONGEST_SYLLABLE), end)
        )
    return reachable[-1]


def reads_as_english(text: str) -> bool:
    """Latin words, most of their letters not pinyin: How can I join the union (but not
    huiyuanka zenme ban, nor hyk zenme ban)."""
    lowered = text.lower()
    if _CJK.search(lowered):
        return False
    # A word without vowels is an abbreviation (zgzj, hyk), in no language.
    words = [word for word in _LATIN_WORD.findall(lowered) if _VOWEL.search(word)]
    letters = sum(len(word) for word in words)
    pinyin = sum(len(word) for word in words if is_pinyin_word(word))
    return letters >= 2 and 2 * pinyin < letters
