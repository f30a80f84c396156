"""The curated answers (faq.toml): what members ask first, and their own labour disputes.

Answers are data that staff edit; each names its source. This module reads and checks them and
finds the one a question asks for; the bot renders them (bot/replies.py), filling the
placeholders from the catalogue and the forms.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.catalogue import KNOWLEDGE_DIR, Catalogue
from knowledge.normalize import Normalizer

DEFAULT_FAQ_PATH = KNOWLEDGE_DIR / "faq.toml"
PLACEHOLDER = re.compile(r"\{(phone|contacts|duties|materials|eligibility|intro):([^{}]+)\}")
BUTTON = re.compile(r"^(apply:\w+|human(?::[0-9.]+)?|duty:[0-9.]+|mycases)$")
MIN_ASK = 2  # characters: a shorter phrase finds itself inside unrelated words
ASK_GAP = "*"  # in an ask: any few characters (能申请*帮扶)
ASK_MAX_GAP = 8


class FaqError(ValueError):
    """faq.toml is broken; the message names the entry."""


@dataclass(frozen=True, slots=True)
class FaqEntry:
    key: str  # its id, or the topic it answers
    answer: str
    source: str
    asks: tuple[str, ...] = ()
    topic: str = ""
    duty: str = ""
    evidence: tuple[str, ...] = ()
    buttons: tuple[str, ...] = ()


class Faq:
    """The entries, and which one a question asks for."""

    def __init__(self, entries: Iterable[FaqEntry], normalizer: Normalizer) -> None:
        self.entries = tuple(entries)
        self._normalize = normalizer
        self._by_topic = {e.topic: e for e in self.entries if e.topic}
        # An ask is a phrase, or pieces in order with a few characters between them (能申请*帮扶
        # fits 家里困难能申请工会帮扶吗); the longest asks are tried first.
        self._asks = sorted(
            (
                (tuple(self._norm(piece) for piece in ask.split(ASK_GAP)), entry)
                for entry in self.entries
                for ask in entry.asks
            ),
            key=lambda item: -sum(len(piece) for piece in item[0]),
        )

    def _norm(self, text: str) -> str:
        return self._normalize.normalize(text).compact

    def get(self, entry_id: str) -> FaqEntry | None:
        return next((entry for entry in self.entries if entry.key == entry_id), None)

    def for_topic(self, topic: str | None) -> FaqEntry | None:
        return self._by_topic.get(topic or "")

    def match(self, question: str) -> tuple[FaqEntry, str] | None:
        """The entry whose longest ask the question contains, and that ask (its pieces joined
        by ASK_GAP)."""
        text = self._norm(question)
        for pieces, entry in self._asks:
            if all(pieces) and _in_order(pieces, text):
                return entry, ASK_GAP.join(pieces)
        return None


def _in_order(pieces: tuple[str, ...], text: str) -> bool:
    """Each piece found after the one before, at most ASK_MAX_GAP characters on."""
    position = text.find(pieces[0])
    if position < 0:
        return False
    end = position + len(pieces[0])
    for piece in pieces[1:]:
        found = text.find(piece, end, end + ASK_MAX_GAP + len(piece))
        if found < 0:
            # The first piece may occur again later, with the rest close behind it.
            return _in_order(pieces, text[position + 1 :])
        end = found + len(piece)
    return True


def load_faq(
    *,
    catalogue: Catalogue,
    forms: Mapping[str, Any],
    topics: Iterable[str],
    path: Path = DEFAULT_FAQ_PATH,
    normalizer: Normalizer | None = None,
) -> Faq:
    """The answers, checked against the catalogue, the forms and the lexicon's topics."""
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    known_topics = set(topics)
    departments = set(catalogue.departments())
    entries = []
    for number, raw in enumerate(data.get("answers", ()), 1):
        entry = _entry(raw, number)
        where = f"{path.name}: answer {number} ({entry.key})"
        problems = _problems(entry, catalogue, forms, known_topics, departments)
        if problems:
            raise FaqError(f"{where}: " + "; ".join(problems))
        entries.append(entry)
    return Faq(entries, normalizer or Normalizer({}))


def _entry(raw: Any, number: int) -> FaqEntry:
    if not isinstance(raw, dict):
        raise FaqError(f"answer {number}: must be a table")
    unknown = set(raw) - {"id", "topic", "asks", "duty", "answer", "evidence", "source", "buttons"}
    if unknown:
        raise FaqError(f"answer {number}: unknown key(s) {', '.join(sorted(unknown))}")
    return FaqEntry(
        key=str(raw.get("id") or raw.get("topic") or f"#{number}"),
        answer=str(raw.get("answer", "")).strip(),
        source=str(raw.get("source", "")).strip(),
        asks=tuple(str(a) for a in raw.get("asks", ())),
        topic=str(raw.get("topic", "")),
        duty=str(raw.get("duty", "")),
        evidence=tuple(str(e) for e in raw.get("evidence", ())),
        buttons=tuple(str(b) for b in raw.get("buttons", ())),
    )


def _problems(
    entry: FaqEntry,
    catalogue: Catalogue,
    forms: Mapping[str, Any],
    topics: set[str],
    departments: set[str],
) -> list[str]:
    problems = []
    if not entry.answer:
        problems.append("no answer")
    if not entry.source:
        problems.append("no source: say where the answer comes from")
    if bool(entry.asks) == bool(entry.topic):
        problems.append("give either `asks` or `topic`")
    if entry.topic and entry.topic not in topics:
        problems.append(f"{entry.topic!r} is not an out-of-scope topic of lexicon.toml")
    if any(len(ask.replace(ASK_GAP, "")) < MIN_ASK for ask in entry.asks):
        problems.append(f"an ask phrase shorter than {MIN_ASK} characters")
    if any(not piece.strip() for ask in entry.asks for piece in ask.split(ASK_GAP)):
        problems.append(f"an ask with an empty piece around {ASK_GAP!r}")
    if entry.duty and catalogue.get(entry.duty) is None:
        problems.append(f"{entry.duty!r} is not a duty")
    for kind, name in PLACEHOLDER.findall(entry.answer):
        if kind in ("phone", "contacts", "duties") and name not in departments:
            problems.append(f"{{{kind}:{name}}}: no such department")
        if kind in ("materials", "eligibility", "intro") and name not in forms:
            problems.append(f"{{{kind}:{name}}}: no such form")
    for button in entry.buttons:
        if not BUTTON.match(button):
            problems.append(
                f"button {button!r}: apply:<form>, human[:<duty>], duty:<id> or mycases"
            )
        elif button.startswith("apply:") and button[6:] not in forms:
            problems.append(f"button {button!r}: no such form")
        elif (
            button.startswith(("duty:", "human:")) and catalogue.get(button.split(":")[1]) is None
        ):
            problems.append(f"button {button!r}: no such duty")
    return problems
