"""Work out which duty a member's question is about, and which aspect of it they want.

The pipeline: normalise (knowledge.normalize) → segment with jieba (knowledge.tokenizer) → find
lexicon terms (exact, longest match wins, short terms only on jieba word boundaries) → if the
evidence is weak, look again by pinyin (homophone typos, questions typed in pinyin) and with
rapidfuzz (other typos) → each duty sums its evidence → decide duty, smalltalk or out of scope
→ the most similar labelled questions (knowledge.examples) fill the places after the duties the
lexicon found, and, where it found nothing at all, give a guess the bot asks back about.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any, Generic, TypeVar

from rapidfuzz import fuzz, process

from knowledge.catalogue import DEFAULT_CATALOGUE_PATH, Aspect, Catalogue, load_catalogue
from knowledge.examples import NONE_LABEL, ExampleIndex, example_files, example_index
from knowledge.lexicon import ASPECT_HINT_WEIGHT, DEFAULT_LEXICON_PATH, Lexicon, load_lexicon
from knowledge.normalize import NormalizedText, Normalizer, reads_as_english
from knowledge.tokenizer import Segmenter, default_cache_dir

# Evidence below this is not enough to name a duty with any confidence.
MIN_DUTY_EVIDENCE = 4.0
# Evidence at or above this needs no second look by pinyin or fuzzy matching.
SETTLED_EVIDENCE = 10.0
# How fast evidence turns into confidence: one strong term (10) gives about 71.
CONFIDENCE_SCALE = 8.0
# A pinyin or fuzzy match is good evidence, but not as good as the exact word.
PINYIN_DISCOUNT = 0.9
FUZZY_DISCOUNT = 0.7
FUZZY_MIN_LENGTH = 4
FUZZY_CUTOFF = 75.0
FUZZY_PINYIN_MIN_LETTERS = 8
FUZZY_PINYIN_CUTOFF = 90.0
FUZZY_MAX_CHARS = 40
PINYIN_MIN_LETTERS = 4
ABBREVIATION_MIN_LETTERS = 3
# The duties offered when the bot asks back (and scored as top-3).
MAX_CANDIDATES = 3
# How many of the most similar labelled questions vote; a question the lexicon found nothing
# in is asked back about a duty only if their votes for it (summed cosine similarity, 0 to 5)
# reach SIMILAR_GUESS_VOTES and one of them is at least SIMILAR_GUESS_CLOSEST alike. Measured
# on the tuning sets, each against all the others, with the rules below: 36 in-scope questions
# placed right, 3 wrong, and 4 of 10,667 out-of-scope questions asked back about instead of
# referred (with the votes alone: 50, 6 and 16).
SIMILAR_QUESTIONS = 5
SIMILAR_GUESS_VOTES = 0.5
SIMILAR_GUESS_CLOSEST = 0.3
# A question this short with no word of the lexicon (办下来要多久？, 你叫啥名字) gives too little
# to compare: it is asked what it is about instead. On the tuning sets this kept two
# out-of-scope questions from a guess and one in-scope question (卡办下来在哪领) from its duty.
SIMILAR_GUESS_MIN_CHARS = 9
# Pronouns, particles and question words: what is left without them is what a question names.
QUESTION_FRAME = re.compile(
    r"[我你您他她它们这那个些是的了吗呢啊呀吧嘛么什啥干哪谁怎咋如何有没用能可以要想请问]"
)
# A document number as the duty list cites it, 津工发〔2016〕14号, and as members type it:
# 津工发2016 14号, 津工通2015第54号 (the normaliser has turned the brackets into spaces).
DOCUMENT_NUMBER = re.compile(r"([\u4e00-\u9fff]{2,})\s*(\d{4})\s*(?:年\s*)?第?\s*(\d{1,4})\s*号")


class RouteKind(StrEnum):
    DUTY = "duty"
    SMALLTALK = "smalltalk"
    OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True, slots=True)
class Candidate:
    duty: str
    score: float


@dataclass(frozen=True, slots=True)
class Route:
    question: str
    kind: RouteKind
    duty: str | None
    aspect: Aspect | None
    score: float
    candidates: tuple[Candidate, ...] = ()
    department: str | None = None  # set when the question names a department, not a duty
    topic: str | None = None  # the smalltalk intent, or the out-of-scope topic
    refer_to: str | None = None  # for out-of-scope topics: who does handle it
    related: tuple[str, ...] = ()  # for out-of-scope topics: duties of the union that can help
    # A guess from similar questions alone, the lexicon having found nothing: always asked
    # back about, never answered outright.
    by_example: bool = False

    def is_confident(self, threshold: float) -> bool:
        """Sure enough of its duty to answer without asking back."""
        return self.duty is not None and not self.by_example and self.score >= threshold

    def to_json(self) -> dict[str, Any]:
        """The stable `union-bot route` line; an out-of-scope line also says who handles it
        (`refer_to`, or null) and, where the union can help too, its `related` duties."""
        line: dict[str, Any] = {
            "question": self.question,
            "kind": self.kind.value,
            "duty": self.duty,
            "aspect": self.aspect.value if self.aspect else None,
            "score": self.score,
            "candidates": [{"duty": c.duty, "score": c.score} for c in self.candidates],
        }
        if self.kind is RouteKind.OUT_OF_SCOPE:
            line["refer_to"] = self.refer_to
            if self.related:
                line["related"] = list(self.related)
        if self.by_example:
            line["by_example"] = True
        return line


@dataclass(frozen=True, slots=True)
class Evidence:
    """What finding a term says: a duty, a department, an out-of-scope topic or the union."""

    kind: str  # "duty" | "department" | "out_of_scope" | "union"
    key: str
    weight: float


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Match(Generic[T]):
    start: int
    end: int
    term: str
    payloads: tuple[T, ...]


class TermIndex(Generic[T]):
    """Finds every listed term in a text; terms are keyed by their first two characters."""

    def __init__(self, entries: Iterable[tuple[str, T]]) -> None:
        grouped: dict[str, list[T]] = defaultdict(list)
        for term, payload in entries:
            if term:
                grouped[term].append(payload)
        self.terms = tuple(grouped)
        self._by_prefix: dict[str, list[tuple[str, tuple[T, ...]]]] = defaultdict(list)
        for term, payloads in grouped.items():
            self._by_prefix[term[:2]].append((term, tuple(payloads)))

    def find(self, text: str) -> list[Match[T]]:
        found = []
        for start in range(len(text)):
            for key in (text[start], text[start : start + 2]):
                for term, payloads in self._by_prefix.get(key, ()):
                    if text.startswith(term, start):
                        found.append(Match(start, start + len(term), term, payloads))
        return found


def longest_matches(matches: Sequence[Match[T]]) -> list[Match[T]]:
    """Keep the longest of overlapping matches: 困难劳模 wins over 劳模 inside it."""
    kept: list[Match[T]] = []
    taken: set[int] = set()
    for match in sorted(matches, key=lambda m: (m.start - m.end, m.start)):
        span = range(match.start, match.end)
        if not taken.intersection(span):
            kept.append(match)
            taken.update(span)
    return sorted(kept, key=lambda m: m.start)


@dataclass(slots=True)
class Tally:
    duties: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    departments: set[str] = field(default_factory=set)
    out_of_scope: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    union: bool = False
    # Where the last duty and out-of-scope terms end, to settle a tie between them.
    last_duty: int = -1
    last_out: int = -1
    # The aspect cues found, and the cues one duty reads its own way (反映 a hazard to 2.3
    # asks how to report it, not whom to complain to): settled once the duty is known.
    aspect_cues: list[Match[tuple[Aspect, float]]] = field(default_factory=list)
    duty_aspect_cues: list[Match[tuple[str, Aspect, float]]] = field(default_factory=list)
    cites_document: bool = False  # a document number the duty list cites (津工发〔2016〕14号)

    def add(self, matches: Iterable[Match[Evidence]], factor: float = 1.0) -> None:
        seen: set[str] = set()
        for match in matches:
            if match.term in seen:
                continue  # a term said twice is still one piece of evidence
            seen.add(match.term)
            duty_weights: dict[str, float] = {}
            for evidence in match.payloads:
                if evidence.kind == "duty":
                    # A term listed twice for one duty (劳模 and laomo) counts once; a positive
                    # listing outweighs a negative cue of the same duty.
                    known = duty_weights.get(evidence.key)
                    duty_weights[evidence.key] = (
                        evidence.weight if known is None else max(known, evidence.weight)
                    )
                elif evidence.kind == "department":
                    self.departments.add(evidence.key)
                elif evidence.kind == "out_of_scope":
                    self.out_of_scope[evidence.key] += evidence.weight * factor
                    self.last_out = max(self.last_out, match.end)
                else:
                    self.union = True
            for duty_id, weight in duty_weights.items():
                self.duties[duty_id] += weight * factor
            if any(weight > 0 for weight in duty_weights.values()):
                self.last_duty = max(self.last_duty, match.end)

    def best(self) -> float:
        return max(self.duties.values(), default=0.0)

    def merge_max(self, other: Tally) -> None:
        for key, value in other.duties.items():
            self.duties[key] = max(self.duties[key], value)
        for key, value in other.out_of_scope.items():
            self.out_of_scope[key] = max(self.out_of_scope[key], value)
        self.departments |= other.departments
        self.union |= other.union


def _without(text: str, words: Sequence[str]) -> str:
    for word in words:
        text = text.replace(word, "")
    return text


DENIAL_REACH = 8  # characters: 不是 this close before another body's word sets it aside
DENIAL = re.compile(r"(?<!是)不是")  # 是不是 asks, 不是 sets aside
CLAUSE_BREAK = re.compile(r"[，,。；;！!？?\s]")  # 不是 sets aside words of its own clause
NEGATIONS = "不没别"  # before an acknowledgement word, they turn it into something else


def confidence(evidence: float) -> float:
    return 1.0 - math.exp(-max(evidence, 0.0) / CONFIDENCE_SCALE)


class Router:
    """Routes one message at a time; build it once (jieba loads here) and reuse it."""

    def __init__(
        self,
        catalogue: Catalogue,
        lexicon: Lexicon,
        *,
        cache_dir: Path | None = None,
        examples: Sequence[Path] = (),
    ) -> None:
        self.catalogue = catalogue
        self.lexicon = lexicon
        self._cache_dir = cache_dir
        self.example_files = tuple(examples)
        self.normalizer = Normalizer(lexicon.typos)
        self._topic_entries = list(self._evidence_entries())
        self._aspect_entries = [
            (self._norm(cue), (aspect, weight))
            for aspect, cues in lexicon.aspect_cues.items()
            for cue, weight in cues.items()
        ]
        self._smalltalk_entries = [
            (self._norm(phrase), intent)
            for intent, phrases in lexicon.smalltalk.items()
            for phrase in phrases
        ]
        # Longest first, so that 基层工会 goes before 工会 when they are taken out of a text.
        self._generic = sorted(
            {self._norm(term) for term in (*lexicon.generic_terms, *lexicon.union_terms)},
            key=len,
            reverse=True,
        )
        # (year, number) → (issuer, duty id) for every document a duty's legal basis cites.
        self._documents: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        for duty in catalogue.duties:
            for line in duty.basis:
                for issuer, year, number in DOCUMENT_NUMBER.findall(
                    self.normalizer.normalize(line).text
                ):
                    self._documents[(year, number.lstrip("0"))].append((issuer[-3:], duty.id))
        self.topics = TermIndex(self._topic_entries)
        self.aspects = TermIndex(self._aspect_entries)
        self._duty_aspects = TermIndex(
            (self._norm(cue), (duty_id, aspect, weight))
            for duty_id, aspects in lexicon.duty_aspect_cues.items()
            for aspect, cues in aspects.items()
            for cue, weight in cues.items()
        )
        self.smalltalk = TermIndex(self._smalltalk_entries)
        self._referrals = {topic.topic: topic.refer_to for topic in lexicon.out_of_scope}
        self._related = {topic.topic: topic.related for topic in lexicon.out_of_scope}
        self._groups = {topic.topic: topic.group for topic in lexicon.out_of_scope if topic.group}
        self._group_related: dict[str, set[str]] = defaultdict(set)
        for topic in lexicon.out_of_scope:
            if topic.group:
                self._group_related[topic.group].update(topic.related)
        cue_words = [*self.aspects.terms, *self._duty_aspects.terms]
        self.segmenter = Segmenter([*self.topics.terms, *cue_words], cache_dir=cache_dir)

    def _norm(self, term: str) -> str:
        return self.normalizer.normalize(term).compact

    def _evidence_entries(self) -> Iterable[tuple[str, Evidence]]:
        weights = self.lexicon.weights
        for duty_id, tiers in self.lexicon.duty_terms.items():
            for tier, terms in tiers.items():
                for term in terms:
                    yield self._norm(term), Evidence("duty", duty_id, weights.tier(tier))
        for department, names in self.lexicon.departments.items():
            for name in names:
                yield self._norm(name), Evidence("department", department, weights.department)
        for topic in self.lexicon.out_of_scope:
            weight = weights.out_of_scope if topic.weight is None else topic.weight
            for term in topic.terms:
                yield self._norm(term), Evidence("out_of_scope", topic.topic, weight)
        for term in self.lexicon.union_terms:
            yield self._norm(term), Evidence("union", "", 0.0)

    # Pinyin views are built on first need: pypinyin takes a quarter second to import.
    @cached_property
    def _pinyin(self) -> Callable[[str], str]:
        """Character by character, each in its default reading, cached.

        Terms and questions go through the same table, so a homophone typo meets its term
        whatever pypinyin's phrase rules would say, and a question costs dictionary lookups
        instead of a pypinyin call (300 µs for a long story).
        """
        from pypinyin import lazy_pinyin

        readings: dict[str, str] = {}

        def reading(char: str) -> str:
            if (found := readings.get(char)) is None:
                found = readings[char] = "" if char == " " else lazy_pinyin(char)[0]
            return found

        def to_pinyin(text: str) -> str:
            return "".join([reading(char) for char in text])

        return to_pinyin

    def _syllables(self, text: str) -> tuple[str, set[int]]:
        """The pinyin of a text, and the offsets where its syllables start and end."""
        readings = [self._pinyin(char) for char in text]
        ends = {0, *itertools.accumulate(len(reading) for reading in readings)}
        return "".join(readings), ends

    def _pinyin_index(self, entries: Iterable[tuple[str, T]]) -> TermIndex[T]:
        return TermIndex(
            (pinyin, payload)
            for term, payload in entries
            # Short pinyin of a one-character term turns up inside other words; abbreviations
            # the lexicon spells out in letters (mgb, hyk) are meant as they are.
            if len(pinyin := self._pinyin(term)) >= PINYIN_MIN_LETTERS
            or (term.isascii() and len(term) >= ABBREVIATION_MIN_LETTERS)
        )

    @cached_property
    def _pinyin_topics(self) -> TermIndex[Evidence]:
        return self._pinyin_index(self._topic_entries)

    @cached_property
    def _pinyin_aspects(self) -> TermIndex[tuple[Aspect, float]]:
        # Only the cues the lexicon spells in pinyin: cues turned into pinyin find each other
        # inside unrelated words (写啥 xiesha in 协商 xieshang).
        return TermIndex((cue, payload) for cue, payload in self._aspect_entries if cue.isascii())

    @cached_property
    def _pinyin_smalltalk(self) -> TermIndex[str]:
        return self._pinyin_index(self._smalltalk_entries)

    @cached_property
    def _fuzzy_terms(self) -> dict[str, tuple[Evidence, ...]]:
        return self._fuzzy_index(self._topic_entries, FUZZY_MIN_LENGTH)

    @cached_property
    def _fuzzy_bigrams(self) -> dict[str, set[str]]:
        index: dict[str, set[str]] = defaultdict(set)
        for term in self._fuzzy_terms:
            for i in range(len(term) - 1):
                index[term[i : i + 2]].add(term)
        return dict(index)

    def _sharing_a_bigram(self, text: str) -> set[str]:
        """The fuzzy candidates worth scoring. A term of four or more characters matched at
        75% or better keeps at least two neighbouring characters as they are, so a term that
        shares no pair of characters with the question cannot match it."""
        index = self._fuzzy_bigrams
        found: set[str] = set()
        for i in range(len(text) - 1):
            found |= index.get(text[i : i + 2], set())
        return found

    @cached_property
    def _fuzzy_pinyin_terms(self) -> dict[str, tuple[Evidence, ...]]:
        entries = ((self._pinyin(term), evidence) for term, evidence in self._topic_entries)
        return self._fuzzy_index(entries, FUZZY_PINYIN_MIN_LETTERS)

    @staticmethod
    def _fuzzy_index(
        entries: Iterable[tuple[str, Evidence]], min_length: int
    ) -> dict[str, tuple[Evidence, ...]]:
        """Long duty terms only, shortest first: in a short word one wrong letter is another
        word."""
        grouped: dict[str, list[Evidence]] = defaultdict(list)
        for term, evidence in entries:
            # Weak terms are not worth a guess.
            if len(term) >= min_length and evidence.kind == "duty" and evidence.weight >= 5:
                grouped[term].append(evidence)
        return {term: tuple(grouped[term]) for term in sorted(grouped, key=len)}

    def warm(self) -> None:
        """Build the lazy parts now, so that no member waits for them."""
        self.route("huiyuanka 会员卡")
        _ = self._pinyin_topics, self._pinyin_aspects, self._pinyin_smalltalk
        _ = self._fuzzy_terms, self._fuzzy_pinyin_terms, self._fuzzy_bigrams, self.examples

    @cached_property
    def examples(self) -> ExampleIndex | None:
        """The labelled questions, indexed (from the cache after the first run)."""
        if not self.example_files:
            return None
        cues = "\n".join(sorted(self.aspects.terms))
        return example_index(
            self.example_files,
            lambda question: self._subject(self.normalizer.normalize(question).compact),
            fingerprint=f"{self.normalizer.fingerprint}\n{cues}",
            known_duties=[duty.id for duty in self.catalogue.duties],
            cache_dir=self._cache_dir or default_cache_dir(),
        )

    def route(self, question: str, *, leave_out: str | None = None) -> Route:
        """`leave_out` names an example file not to consult: a set measured against the others."""
        normalized = self.normalizer.normalize(question)
        if not normalized.text:
            return Route(question, RouteKind.OUT_OF_SCOPE, None, None, 0.0)
        tally, smalltalk = (
            self._read_pinyin(normalized) if normalized.is_pinyin else self._read(normalized)
        )
        self._combine(tally, normalized.compact)
        route = self._decide(question, tally, smalltalk)
        return self._with_similar(route, tally, normalized.compact, leave_out)

    def _subject(self, compact: str) -> str:
        """What a question is about, for comparing it with others: its aspect cues (怎么办,
        要什么材料, 打哪个电话) blanked out, since every duty is asked about that way."""
        chars = list(compact)
        for match in longest_matches(self.aspects.find(compact)):
            chars[match.start : match.end] = " " * (match.end - match.start)
        return "".join(chars)

    def _may_guess(self, route: Route, compact: str, subject: str) -> bool:
        """Whether a question the lexicon placed nowhere is worth comparing: not another
        body's business, small talk or a department; not English (answered in English, with
        its own buttons); not a few characters; naming something."""
        return (
            route.topic is None
            and route.department is None
            and route.kind is not RouteKind.SMALLTALK
            and len(compact) >= SIMILAR_GUESS_MIN_CHARS
            and not reads_as_english(route.question)
            and self._says_something(subject)
        )

    def _says_something(self, subject: str) -> bool:
        """Whether a question names anything beyond the union and how it asks: 工会是干嘛的
        does not, and resembles questions about every duty; 保安保洁是派遣来的 does."""
        content = QUESTION_FRAME.sub(" ", _without(subject, self._generic))
        return any(len(set(run)) > 1 for run in content.split())  # not 会会会会 either

    def _with_similar(
        self, route: Route, tally: Tally, compact: str, leave_out: str | None
    ) -> Route:
        """Candidates from the labelled questions most like this one.

        Where the lexicon named a duty, they fill the places after the duties it found. Where
        it found nothing at all (no duty, no other body's business, no small talk), a duty
        the similar questions agree on is a guess: the bot asks back about it. A question the
        lexicon referred elsewhere keeps its referral."""
        placed = route.duty is not None
        if (placed and len(route.candidates) >= MAX_CANDIDATES) or self.examples is None:
            return route
        subject = self._subject(compact)
        if not placed and not self._may_guess(route, compact, subject):
            return route
        votes: dict[str, float] = defaultdict(float)
        closest: dict[str, float] = defaultdict(float)
        for found in self.examples.similar(subject, SIMILAR_QUESTIONS, leave_out=leave_out):
            labels = found.duties or (NONE_LABEL,)
            for label in labels:
                votes[label] += found.similarity / len(labels)
                closest[label] = max(closest[label], found.similarity)
        ranked = sorted(
            votes.items(),
            key=lambda item: (-item[1], item[0] == NONE_LABEL, item[0]),
        )
        offered = [
            Candidate(label, round(100 * vote / SIMILAR_QUESTIONS, 1))
            for label, vote in ranked
            if label != NONE_LABEL
        ]
        if placed:
            named = {route.duty, *(candidate.duty for candidate in route.candidates)}
            extra = [candidate for candidate in offered if candidate.duty not in named]
            return replace(route, candidates=(*route.candidates, *extra)[:MAX_CANDIDATES])
        if (
            not ranked
            or ranked[0][0] == NONE_LABEL
            or ranked[0][1] < SIMILAR_GUESS_VOTES
            or closest[ranked[0][0]] < SIMILAR_GUESS_CLOSEST
        ):
            return route
        guess = offered[0]
        return Route(
            route.question,
            RouteKind.DUTY,
            guess.duty,
            self._aspect_of(guess.duty, tally, whole_department=False),
            guess.score,
            tuple(offered[:MAX_CANDIDATES]),
            by_example=True,
        )

    def _combine(self, tally: Tally, compact: str) -> None:
        """Let a duty's evidence count for another where the lexicon's combination words are
        said too: 我爸是老劳模，现在看病没钱 is the aid to model workers, not the general aid.
        Not where another body's business is named: 道德模范 beside 照顾瘫痪邻居 stays 文明办's."""
        if tally.out_of_scope:
            return
        for combination in self.lexicon.combinations:
            value = tally.duties.get(combination.evidence_of, 0.0)
            if value >= MIN_DUTY_EVIDENCE and any(word in compact for word in combination.words):
                tally.duties[combination.counts_for] += value

    def _read(self, normalized: NormalizedText) -> tuple[Tally, tuple[str, float] | None]:
        text = normalized.text
        matches = longest_matches(self.topics.find(text))
        if any(match.end - match.start <= 2 for match in matches):
            boundaries = self._boundaries(text)
            matches = [
                match
                for match in matches
                if match.end - match.start > 2 or self._on_boundaries(match, boundaries)
            ]
        tally = Tally()
        tally.add(self._not_denied(text, matches))
        # A second look only where the duty evidence is weak and nothing else explains the
        # question (社保, 快递 … say it is not the union's).
        if tally.best() < SETTLED_EVIDENCE and not (tally.out_of_scope and not tally.duties):
            compact = normalized.compact
            second = Tally()
            pinyin, syllable_ends = self._syllables(compact)
            second.add(
                longest_matches(
                    [
                        sounded
                        for match in self._pinyin_topics.find(pinyin)
                        # 工会开展 gonghuikaizhan does not say 工会卡 gonghuika.
                        if match.start in syllable_ends
                        and match.end in syllable_ends
                        and (sounded := self._sounded(match, syllable_ends)) is not None
                    ]
                ),
                PINYIN_DISCOUNT,
            )
            tally.merge_max(second)
            if len(text) <= FUZZY_MAX_CHARS:
                # A long story names its subject several ways; looking for typos in it costs
                # milliseconds (partial_ratio grows with the text) and finds little.
                self._add_fuzzy(
                    tally,
                    text,
                    matches,
                    self._fuzzy_terms,
                    FUZZY_CUTOFF,
                    only=self._sharing_a_bigram(text),
                    generic=self._generic,
                )
        tally.aspect_cues = self.aspects.find(text)
        tally.duty_aspect_cues = self._duty_aspects.find(text)
        tally.cites_document = self._add_documents(tally, text)
        smalltalk = self._smalltalk(self.smalltalk.find(text), normalized)
        return tally, smalltalk

    @staticmethod
    def _not_denied(text: str, matches: list[Match[Evidence]]) -> list[Match[Evidence]]:
        """Another body's word the member sets aside is not what they ask about: 不是妇联的,
        不是人社局那种技能鉴定, 我不是要打官司."""
        kept = []
        for match in matches:
            clause = CLAUSE_BREAK.split(text[max(0, match.start - DENIAL_REACH) : match.start])
            if DENIAL.search(clause[-1]):
                payloads = tuple(e for e in match.payloads if e.kind != "out_of_scope")
                if not payloads:
                    continue
                match = Match(match.start, match.end, match.term, payloads)
            kept.append(match)
        return kept

    def _add_documents(self, tally: Tally, text: str) -> bool:
        """A document number the duty list cites names its duty outright."""
        found = False
        for match in DOCUMENT_NUMBER.finditer(text):
            issuer, year, number = match.groups()
            for cited_issuer, duty_id in self._documents.get((year, number.lstrip("0")), ()):
                # The issuer's last letters (工发, 工通) tell 津工通〔2017〕6号 from another
                # body's document of the same year and number.
                if issuer.endswith(cited_issuer[-2:]):
                    tally.duties[duty_id] += self.lexicon.weights.strong
                    tally.last_duty = max(tally.last_duty, match.end())
                    found = True
        return found

    def _read_pinyin(self, normalized: NormalizedText) -> tuple[Tally, tuple[str, float] | None]:
        compact = normalized.compact
        tally = Tally()
        matches = longest_matches(self._pinyin_topics.find(compact))
        tally.add(matches, PINYIN_DISCOUNT)
        if tally.best() < SETTLED_EVIDENCE:
            self._add_fuzzy(tally, compact, matches, self._fuzzy_pinyin_terms, FUZZY_PINYIN_CUTOFF)
        tally.aspect_cues = self._pinyin_aspects.find(compact)
        smalltalk = self._smalltalk(self._pinyin_smalltalk.find(compact), normalized)
        return tally, smalltalk

    @staticmethod
    def _sounded(match: Match[Evidence], syllable_ends: set[int]) -> Match[Evidence] | None:
        """A homophone of two syllables is too common to say the union is not meant: 职工方代表
        sounds like 房贷 (fangdai) in the middle. It may still point at a duty."""
        syllables = sum(1 for end in syllable_ends if match.start < end <= match.end)
        if syllables > 2:
            return match
        kept = tuple(e for e in match.payloads if e.kind != "out_of_scope")
        return Match(match.start, match.end, match.term, kept) if kept else None

    def _boundaries(self, text: str) -> set[int]:
        offsets = {0}
        position = 0
        for token in self.segmenter.tokens(text):
            position += len(token)
            offsets.add(position)
        return offsets

    @staticmethod
    def _on_boundaries(match: Match[Evidence], boundaries: set[int]) -> bool:
        """A short term counts only as a word of its own or inside one jieba word."""
        inner = any(i in boundaries for i in range(match.start + 1, match.end))
        return not inner or (match.start in boundaries and match.end in boundaries)

    @staticmethod
    def _add_fuzzy(
        tally: Tally,
        text: str,
        found: Sequence[Match[Evidence]],
        terms: dict[str, tuple[Evidence, ...]],
        cutoff: float,
        *,
        only: set[str] | None = None,
        generic: Sequence[str] = (),
    ) -> None:
        """Typos that are not homophones: a long term found with one letter wrong.

        A window that is only generic words is no typo: 基层工会的统一社会信用代码 does not
        say 成立基层工会 with two letters lost, and its specific term must win."""
        fuzzy: dict[str, float] = defaultdict(float)
        # Only terms that fit in the question: partial_ratio would also find a short question
        # inside a long term.
        choices = [
            term
            for term in itertools.takewhile(lambda term: len(term) <= len(text), terms)
            if only is None or term in only
        ]
        hits = process.extract(
            text, choices, scorer=fuzz.partial_ratio, score_cutoff=cutoff, limit=None
        )
        for term, similarity, _ in hits:
            window = fuzz.partial_ratio_alignment(term, text)
            if window is None or any(
                match.start < window.dest_end
                and window.dest_start < match.end
                and match.term not in term
                for match in found
            ):
                continue  # 民主管理条例 is not a typo inside 民主管理部, a word found as it stands
            if generic and len(_without(text[window.dest_start : window.dest_end], generic)) < 2:
                continue
            for evidence in terms[term]:
                # The best near miss per duty: many weak resemblances are not evidence.
                value = evidence.weight * FUZZY_DISCOUNT * similarity / 100
                fuzzy[evidence.key] = max(fuzzy[evidence.key], value)
        for duty_id, value in fuzzy.items():
            tally.duties[duty_id] = max(tally.duties[duty_id], value)

    def _aspect_of(self, duty_id: str, tally: Tally, *, whole_department: bool) -> Aspect:
        """The aspect asked about this duty: its own cues first, where they overlap others."""
        own = [
            Match(m.start, m.end, m.term, tuple((a, w) for d, a, w in m.payloads if d == duty_id))
            for m in tally.duty_aspect_cues
        ]
        # longest_matches keeps the first of two equal matches: the duty's own reading.
        cues = [*(m for m in own if m.payloads), *tally.aspect_cues]
        aspect, asked = self._aspect(longest_matches(cues))
        # Hints alone (no cue said) give way to a document or a department named.
        general = aspect is Aspect.OVERVIEW or not asked
        if tally.cites_document and general:
            return Aspect.BASIS  # 津工发2016 14号是啥文件: the document behind a duty
        if tally.departments and general and not whole_department:
            return Aspect.DEPARTMENT  # 劳模帮扶归宣传教育部吗: whose it is
        return aspect

    @staticmethod
    def _aspect(matches: Iterable[Match[tuple[Aspect, float]]]) -> tuple[Aspect, bool]:
        """The aspect with most cue weight, and whether a cue (not only hints) named it.

        Hints only break a tie of cues, however many are said (年审 … 有公示吗 is no cue). Then
        the aspect asked last wins (Chinese puts the question word at the end: 劳动法宣传资料上哪领
        asks where, not what)."""
        cues: dict[Aspect, float] = defaultdict(float)
        hints: dict[Aspect, float] = defaultdict(float)
        last: dict[Aspect, int] = {}
        for match in matches:
            for aspect, weight in match.payloads:
                (hints if weight <= ASPECT_HINT_WEIGHT else cues)[aspect] += weight
                last[aspect] = match.end
        if not last:
            return Aspect.OVERVIEW, False
        best = max(last, key=lambda aspect: (cues[aspect], hints[aspect], last[aspect]))
        return best, cues[best] > 0

    @staticmethod
    def _smalltalk(
        matches: Sequence[Match[str]], normalized: NormalizedText
    ) -> tuple[str, float] | None:
        """The intent, if small talk makes up most of the message."""
        words = set(normalized.text.split())
        kept = [
            match
            for match in longest_matches(matches)
            if not match.term.isascii() or match.term in words or normalized.is_pinyin
        ]
        if not kept:
            return None
        covered = sum(match.end - match.start for match in kept)
        length = len(normalized.text.replace(" ", "")) if not normalized.is_pinyin else 0
        share = covered / max(length, 1) if length else 1.0
        leftover = max(length - covered, 0)
        if leftover > 4 and share < 0.5:
            return None
        intent = kept[0].payloads[0]
        if intent == "ack":
            # 同意, 是的, 不用了 are an acknowledgement only said on their own: 不同意, 工资没了
            # and 是的我是会员 say something else.
            first = min(match.start for match in kept)
            negated = first > 0 and normalized.text[first - 1] in NEGATIONS
            if leftover > 1 or negated:
                return None
        return intent, share

    def _decide(
        self,
        question: str,
        tally: Tally,
        smalltalk: tuple[str, float] | None,
    ) -> Route:
        for named in tally.departments:
            for duty in self.catalogue.duties_of_department(named):
                tally.duties[duty.id] += self.lexicon.weights.department
        ranked = sorted(
            ((duty_id, value) for duty_id, value in tally.duties.items() if value > 0),
            key=lambda item: (-item[1], self._order(item[0])),
        )
        best = ranked[0][1] if ranked else 0.0
        candidates = tuple(
            Candidate(duty_id, round(100 * confidence(value), 1))
            for duty_id, value in ranked[:MAX_CANDIDATES]
        )
        # A group's topics add up (欠薪 and 扣工资 are one dispute), so the group's strongest
        # topic can outweigh an unrelated word said in passing (外卖).
        group_weights: dict[str, float] = defaultdict(float)
        for topic, weight in tally.out_of_scope.items():
            if topic_group := self._groups.get(topic):
                group_weights[topic_group] += weight
        out_topic, out_weight = max(
            (
                (topic, group_weights.get(self._groups.get(topic, ""), weight))
                for topic, weight in tally.out_of_scope.items()
            ),
            key=lambda item: (item[1], tally.out_of_scope[item[0]]),
            default=("", 0.0),
        )
        related = self._related.get(out_topic, ())
        if out_group := self._groups.get(out_topic):
            # The union's duties the group can offer and the question points at too: a
            # pregnant member dismissed hears of the 女职工 work as well as the arbitration.
            helpful = self._group_related.get(out_group, set())
            related = (
                *related,
                *(
                    d
                    for d, value in ranked
                    if d in helpful and d not in related and value >= MIN_DUTY_EVIDENCE
                ),
            )
        # On a tie, a duty named outright wins if it is what the member asks about last:
        # 我是送外卖的，能加入工会吗 is about joining; 我辞职了，社保咋交 is not the union's.
        tie_to_duty = best >= self.lexicon.weights.strong and tally.last_duty > tally.last_out
        if out_weight > 0 and (out_weight > best or (out_weight == best and not tie_to_duty)):
            return Route(
                question,
                RouteKind.OUT_OF_SCOPE,
                None,
                None,
                round(100 * confidence(out_weight - best), 1),
                candidates,
                topic=out_topic,
                refer_to=self._referrals.get(out_topic) or None,
                related=related,
            )
        if best < MIN_DUTY_EVIDENCE and smalltalk is not None:
            intent, share = smalltalk
            return Route(
                question, RouteKind.SMALLTALK, None, None, round(100 * share, 1), topic=intent
            )
        if not ranked:
            kind = RouteKind.DUTY if tally.union else RouteKind.OUT_OF_SCOPE
            return Route(question, kind, None, None, 0.0)
        top_id = ranked[0][0]
        group = {top_id}
        department: str | None = None
        top_department = self.catalogue.duty(top_id).department
        if top_department in tally.departments:
            tied = {duty_id for duty_id, value in ranked if value == best}
            if all(self.catalogue.duty(d).department == top_department for d in tied):
                group = tied
                if len(tied) > 1:
                    department = top_department  # a question about the department as a whole
        runner_up = max((value for d, value in tally.duties.items() if d not in group), default=0)
        margin = (best - max(runner_up, 0.0)) / best
        score = round(100 * confidence(best) * (0.4 + 0.6 * margin), 1)
        return Route(
            question,
            RouteKind.DUTY,
            top_id,
            self._aspect_of(top_id, tally, whole_department=department is not None),
            score,
            candidates,
            department=department,
        )

    def _order(self, duty_id: str) -> tuple[int, ...]:
        return tuple(int(part) for part in duty_id.split("."))


def build_router(
    *,
    catalogue_path: Path = DEFAULT_CATALOGUE_PATH,
    lexicon_path: Path = DEFAULT_LEXICON_PATH,
    cache_dir: Path | None = None,
    examples: Sequence[Path] | None = None,
) -> Router:
    """The router with its lexicon and, unless told otherwise, every example file."""
    catalogue = load_catalogue(catalogue_path)
    lexicon = load_lexicon(lexicon_path, catalogue=catalogue)
    files = example_files() if examples is None else examples
    return Router(catalogue, lexicon, cache_dir=cache_dir, examples=files)
