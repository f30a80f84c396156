"""The curated routing lexicon (lexicon.toml): the words members use, kept as data for staff."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.catalogue import KNOWLEDGE_DIR, Aspect, Catalogue
from knowledge.normalize import unquote

DEFAULT_LEXICON_PATH = KNOWLEDGE_DIR / "lexicon.toml"
TIERS = ("strong", "terms", "weak", "negative")
# A hint names the thing asked about, not the question (还能年审吗): it decides the aspect
# only where no cue is said, so 年审要交啥 still asks for the materials.
ASPECT_HINT_WEIGHT = 0.5
DUTY_ASPECT_WEIGHT = 1.0  # a duty's own reading of a cue: as much as any cue; 哪个部门 still wins
ANSWERABLE_ASPECTS = tuple(aspect for aspect in Aspect if aspect is not Aspect.OVERVIEW)


class LexiconError(ValueError):
    """lexicon.toml is inconsistent with itself or with the catalogue."""


@dataclass(frozen=True, slots=True)
class Weights:
    strong: float = 10.0
    terms: float = 5.0
    weak: float = 2.0
    negative: float = -8.0
    department: float = 6.0
    out_of_scope: float = 10.0

    def tier(self, name: str) -> float:
        return float(getattr(self, name))


@dataclass(frozen=True, slots=True)
class OutOfScopeTopic:
    """Something the union does not handle, and whom to ask instead."""

    topic: str
    refer_to: str
    terms: tuple[str, ...]
    related: tuple[str, ...] = ()  # the union's duties that can help all the same
    # Topics of one group add their evidence up against a duty: a story of unpaid wages, no
    # contract and a dismissal is a labour dispute three times over.
    group: str = ""
    weight: float | None = (
        None  # the evidence one of its terms gives; default weights.out_of_scope
    )


@dataclass(frozen=True, slots=True)
class Combination:
    """Words that make one duty's evidence count for another as well: 劳模 said beside a
    hardship (看病没钱, 下岗了) asks for the aid to model workers, not the general aid."""

    words: tuple[str, ...]
    evidence_of: str  # the duty whose evidence is read again (3.1, the hardship)
    counts_for: str  # the duty it then counts for too (4.2)


@dataclass(frozen=True, slots=True)
class Lexicon:
    weights: Weights
    typos: dict[str, str]
    duty_terms: dict[str, dict[str, tuple[str, ...]]]  # duty id → tier → terms
    aspect_cues: dict[Aspect, dict[str, float]]  # aspect → cue → weight
    # duty id → aspect → cue → weight: how one duty reads a cue (反映 to 2.3 is its process)
    duty_aspect_cues: dict[str, dict[Aspect, dict[str, float]]]
    departments: dict[str, tuple[str, ...]]  # department → ways members name it
    union_terms: tuple[str, ...]  # generic words that show a question is about the union
    # Words every duty uses (基层工会, 开展, 研究): they never point at a duty, so a typo
    # search must not take them for a damaged specific term (成立基层工会).
    generic_terms: tuple[str, ...]
    smalltalk: dict[str, tuple[str, ...]]  # intent (greeting, thanks …) → phrases
    out_of_scope: tuple[OutOfScopeTopic, ...]
    combinations: tuple[Combination, ...] = ()


def load_lexicon(path: Path = DEFAULT_LEXICON_PATH, *, catalogue: Catalogue) -> Lexicon:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    lexicon = _from_data(data, source=path.name)
    validate(lexicon, catalogue, source=path.name)
    return lexicon


def _from_data(data: dict[str, Any], *, source: str) -> Lexicon:
    try:
        aspects = {
            Aspect(name): {
                **dict.fromkeys(section.get("hints", ()), ASPECT_HINT_WEIGHT),
                **dict.fromkeys(section.get("cues", ()), 1.0),
                **dict.fromkeys(section.get("strong", ()), 2.0),
            }
            for name, section in data.get("aspects", {}).items()
        }
        duty_aspects = {
            str(duty_id): {
                Aspect(name): dict.fromkeys(cues, DUTY_ASPECT_WEIGHT)
                for name, cues in section.get("aspects", {}).items()
            }
            for duty_id, section in data.get("duties", {}).items()
            if section.get("aspects")
        }
    except ValueError as error:
        raise LexiconError(f"{source}: [aspects]: {error}") from error
    return Lexicon(
        weights=Weights(**data.get("weights", {})),
        typos={str(k): str(v) for k, v in data.get("typos", {}).items()},
        duty_terms={
            str(duty_id): {tier: tuple(section.get(tier, ())) for tier in TIERS}
            for duty_id, section in data.get("duties", {}).items()
        },
        aspect_cues=aspects,
        duty_aspect_cues=duty_aspects,
        departments={str(k): tuple(v) for k, v in data.get("departments", {}).items()},
        union_terms=tuple(data.get("union", {}).get("terms", ())),
        generic_terms=tuple(data.get("generic", {}).get("terms", ())),
        smalltalk={str(k): tuple(v) for k, v in data.get("smalltalk", {}).items()},
        out_of_scope=tuple(
            OutOfScopeTopic(
                topic=str(entry["topic"]),
                refer_to=str(entry.get("refer_to", "")),
                terms=tuple(entry.get("terms", ())),
                related=tuple(str(duty) for duty in entry.get("related", ())),
                group=str(entry.get("group", "")),
                weight=float(entry["weight"]) if "weight" in entry else None,
            )
            for entry in data.get("out_of_scope", ())
        ),
        combinations=tuple(
            Combination(
                words=tuple(entry.get("words", ())),
                evidence_of=str(entry["evidence_of"]),
                counts_for=str(entry["counts_for"]),
            )
            for entry in data.get("combinations", ())
        ),
    )


def validate(lexicon: Lexicon, catalogue: Catalogue, *, source: str) -> None:
    """Refuse a lexicon that names unknown duties or departments, or one-character terms."""
    problems = []
    for duty_id, tiers in lexicon.duty_terms.items():
        if catalogue.get(duty_id) is None:
            problems.append(f"[duties.{duty_id!r}] is not a duty in the catalogue")
        for tier, terms in tiers.items():
            problems += [
                f"[duties.{duty_id!r}] {tier}: {term!r} is too short to route on"
                for term in terms
                if len(unquote(term).strip()) < 2
            ]
    for topic in lexicon.out_of_scope:
        problems += [
            f"[[out_of_scope]] {topic.topic!r}: related {duty!r} is not a duty in the catalogue"
            for duty in topic.related
            if catalogue.get(duty) is None
        ]
    problems += [
        f"[[combinations]] {duty!r} is not a duty in the catalogue"
        for combination in lexicon.combinations
        for duty in (combination.evidence_of, combination.counts_for)
        if catalogue.get(duty) is None
    ]
    known_departments = set(catalogue.departments())
    problems += [
        f"[departments] {name!r} is not a department in the catalogue"
        for name in lexicon.departments
        if name not in known_departments
    ]
    if problems:
        raise LexiconError(f"{source}: " + "; ".join(problems))
