"""Evaluate the router on a labelled question set, reported the way `rasa test nlu` reports."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.catalogue import Aspect
from knowledge.examples import GENERAL_LABEL, NONE_LABEL, DatasetError, Example, read_examples
from knowledge.router import Route, Router

__all__ = ["DatasetError", "Example", "Report", "evaluate", "read_examples", "render"]


@dataclass(frozen=True, slots=True)
class Outcome:
    example: Example
    route: Route

    @property
    def predicted(self) -> str:
        return self.route.duty or NONE_LABEL

    @property
    def gold(self) -> str:
        """The label to score against: the predicted duty if accepted, else the first one."""
        if not self.example.in_scope:
            return NONE_LABEL
        if self.route.duty in self.example.duties:
            return self.predicted
        return self.example.duties[0]

    @property
    def top1(self) -> bool:
        return self.predicted == self.gold

    @property
    def top3(self) -> bool:
        if not self.example.in_scope:
            return self.top1
        if self.route.duty is None:
            return False  # rejected: no candidates are offered to the member
        offered = {self.route.duty, *(candidate.duty for candidate in self.route.candidates)}
        return bool(offered & set(self.example.duties))

    @property
    def aspect_ok(self) -> bool:
        aspect = self.route.aspect
        label = GENERAL_LABEL if aspect in (None, Aspect.OVERVIEW) else str(aspect)
        return label in self.example.aspects


@dataclass(slots=True)
class ClassScores:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(slots=True)
class Report:
    outcomes: list[Outcome]
    labels: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        found = {o.gold for o in self.outcomes} | {o.predicted for o in self.outcomes}
        self.labels = [*sorted(found - {NONE_LABEL}, key=_duty_order), NONE_LABEL]

    @property
    def in_scope(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.example.in_scope]

    @property
    def out_of_scope(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.example.in_scope]

    def top1_accuracy(self) -> float:
        return _share(o.top1 for o in self.in_scope)

    def top3_accuracy(self) -> float:
        return _share(o.top3 for o in self.in_scope)

    def rejection_rate(self) -> float:
        return _share(o.route.duty is None for o in self.out_of_scope)

    def aspect_accuracy(self) -> float:
        return _share(o.aspect_ok for o in self.in_scope)

    def class_scores(self) -> dict[str, ClassScores]:
        true_positive: Counter[str] = Counter()
        predicted: Counter[str] = Counter()
        support: Counter[str] = Counter()
        for outcome in self.outcomes:
            support[outcome.gold] += 1
            predicted[outcome.predicted] += 1
            if outcome.top1:
                true_positive[outcome.gold] += 1
        scores = {}
        for label in self.labels:
            precision = true_positive[label] / predicted[label] if predicted[label] else 0.0
            recall = true_positive[label] / support[label] if support[label] else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            scores[label] = ClassScores(precision, recall, f1, support[label])
        return scores

    def confusion(self) -> dict[str, Counter[str]]:
        matrix: dict[str, Counter[str]] = defaultdict(Counter)
        for outcome in self.outcomes:
            matrix[outcome.gold][outcome.predicted] += 1
        return matrix

    def errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.top1 or (o.example.in_scope and not o.aspect_ok)]

    def to_json(self) -> dict[str, Any]:
        return {
            "examples": len(self.outcomes),
            "in_scope": len(self.in_scope),
            "out_of_scope": len(self.out_of_scope),
            "top1_accuracy": self.top1_accuracy(),
            "top3_accuracy": self.top3_accuracy(),
            "out_of_scope_rejection": self.rejection_rate(),
            "aspect_accuracy": self.aspect_accuracy(),
            "report": {
                label: {
                    "precision": s.precision,
                    "recall": s.recall,
                    "f1-score": s.f1,
                    "support": s.support,
                }
                for label, s in self.class_scores().items()
            },
            "confusion": {gold: dict(row) for gold, row in self.confusion().items()},
            "errors": [
                {
                    "line": o.example.line,
                    "text": o.example.question,
                    "expected": {
                        "duties": list(o.example.duties),
                        "aspects": list(o.example.aspects),
                    },
                    "predicted": o.route.to_json(),
                }
                for o in self.errors()
            ],
        }


def evaluate(
    router: Router, examples: Sequence[Example], *, leave_out: str | None = None
) -> Report:
    """`leave_out`: the example file these questions come from, if the router consults it, so
    that no question is found as its own most similar one."""
    return Report([Outcome(e, router.route(e.question, leave_out=leave_out)) for e in examples])


def source_in_bank(router: Router, path: Path) -> str | None:
    """The name the router's example bank knows this file by, if it is one of its files."""
    resolved = path.resolve()
    for known in router.example_files:
        if known.resolve() == resolved:
            return known.name
    return None


def render(report: Report) -> str:
    """The plain-text report: summary, per-duty scores, confusion matrix, errors."""
    lines = [
        f"examples: {len(report.outcomes)} "
        f"(in scope {len(report.in_scope)}, out of scope {len(report.out_of_scope)})",
        f"top-1 accuracy (in scope):   {report.top1_accuracy():7.2%}",
        f"top-3 accuracy (in scope):   {report.top3_accuracy():7.2%}",
        f"out-of-scope rejection rate: {report.rejection_rate():7.2%}",
        f"aspect accuracy (in scope):  {report.aspect_accuracy():7.2%}",
        "",
        "per-duty report:",
        f"{'':>8} {'precision':>9} {'recall':>7} {'f1-score':>8} {'support':>7}",
    ]
    scores = report.class_scores()
    for label, s in scores.items():
        lines.append(f"{label:>8} {s.precision:9.2f} {s.recall:7.2f} {s.f1:8.2f} {s.support:7d}")
    total = sum(s.support for s in scores.values()) or 1
    macro = [sum(getattr(s, a) for s in scores.values()) / len(scores) for a in _METRICS]
    weighted = [sum(getattr(s, a) * s.support for s in scores.values()) / total for a in _METRICS]
    lines.append(f"{'macro':>8} {macro[0]:9.2f} {macro[1]:7.2f} {macro[2]:8.2f} {total:7d}")
    lines.append(
        f"{'weighted':>8} {weighted[0]:9.2f} {weighted[1]:7.2f} {weighted[2]:8.2f} {total:7d}"
    )
    lines += ["", "confusion matrix (rows: expected, columns: predicted):"]
    labels = report.labels
    matrix = report.confusion()
    lines.append(" " * 6 + "".join(f"{label:>5}" for label in labels))
    for gold in labels:
        row = matrix.get(gold, Counter())
        cells = "".join(f"{row[p] or '.':>5}" for p in labels)
        lines.append(f"{gold:>5} {cells}")
    errors = report.errors()
    lines += ["", f"errors ({len(errors)}):"]
    for o in errors:
        expected = ",".join(o.example.duties) or NONE_LABEL
        aspect = o.route.aspect.value if o.route.aspect else GENERAL_LABEL
        offered = " ".join(f"{c.duty}:{c.score:g}" for c in o.route.candidates)
        lines.append(
            f"  line {o.example.line}: {o.example.question}\n"
            f"    expected {expected} / {'|'.join(o.example.aspects)}; "
            f"got {o.route.kind.value} {o.predicted} / {aspect} score {o.route.score:g}"
            f" [{offered}]"
        )
    return "\n".join(lines)


_METRICS = ("precision", "recall", "f1")


def _share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return sum(values) / len(values) if values else 1.0


def _duty_order(label: str) -> tuple[int, ...]:
    return tuple(int(part) for part in label.split(".") if part.isdigit())
