"""Members' questions labelled with the duty each asks about: the router's example bank.

`knowledge/examples/*.tsv` holds the questions the lexicon was tuned against, written by many
hands the way members type (never the held-out sets, which only measure). The router looks
up the most similar of them, by TF-IDF over pairs of characters: a question whose words the
lexicon does not know still resembles questions that were labelled, so the bot can ask back
with the duties they were about, instead of saying it cannot help.

Normalising tens of thousands of questions takes about a second, so the index is written once
to the cache directory, keyed by the files' contents and the normaliser, and read back in
milliseconds.
"""

from __future__ import annotations

import hashlib
import math
import os
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowledge.catalogue import Aspect

if TYPE_CHECKING:
    import numpy as np

EXAMPLES_DIR = Path(__file__).with_name("examples")
NONE_LABEL = "none"
GENERAL_LABEL = "-"
# Every aspect `union-bot route` prints; overview and "-" both mean a general question.
VALID_ASPECTS = {aspect.value for aspect in Aspect}
# Bump when the index's layout or its features change: old cache files are then ignored.
INDEX_VERSION = "1"


class DatasetError(ValueError):
    """A labelled set that cannot be read; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Example:
    line: int
    question: str
    duties: tuple[str, ...]  # empty: the union does not handle this (labelled none)
    aspects: tuple[str, ...]  # process … contact, or "-" for a general question
    refer_to: str = ""  # out of scope: the body that handles it (an optional 4th column)

    @property
    def in_scope(self) -> bool:
        return bool(self.duties)


def read_examples(path: Path, *, known_duties: Iterable[str] | None = None) -> list[Example]:
    """Rows of question, duty ids (comma-separated) or none, aspects ("|"-separated) and,
    on a none row, optionally the body that handles it. Comments start with #."""
    known = set(known_duties) if known_duties is not None else None
    examples = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        columns = raw.split("\t")
        if len(columns) not in (3, 4):
            raise DatasetError(f"{path.name} line {number}: expected 3 or 4 tab-separated columns")
        question, duty_column, aspect_column = (column.strip() for column in columns[:3])
        refer_to = columns[3].strip() if len(columns) == 4 else ""
        duties = () if duty_column == NONE_LABEL else tuple(duty_column.split(","))
        aspects = tuple(
            GENERAL_LABEL if a == Aspect.OVERVIEW.value else a for a in aspect_column.split("|")
        )
        unknown = [d for d in duties if known is not None and d not in known]
        if unknown:
            raise DatasetError(f"{path.name} line {number}: unknown duty {', '.join(unknown)}")
        if bad := [a for a in aspects if a != GENERAL_LABEL and a not in VALID_ASPECTS]:
            raise DatasetError(f"{path.name} line {number}: unknown aspect {', '.join(bad)}")
        if refer_to and duties:
            raise DatasetError(f"{path.name} line {number}: a referral is only for 'none' rows")
        if not question:
            raise DatasetError(f"{path.name} line {number}: the question is empty")
        examples.append(Example(number, question, duties, aspects, refer_to))
    return examples


@dataclass(frozen=True, slots=True)
class Similar:
    """A labelled question like the one asked: its duties (none: not the union's) and how
    alike the two are (cosine, 0 to 1)."""

    duties: tuple[str, ...]
    similarity: float
    source: str


def pairs(text: str) -> Counter[str]:
    """The features: neighbouring characters (the unit of most Chinese words), within each
    run of the text between spaces."""
    return Counter(run[i : i + 2] for run in text.split() for i in range(len(run) - 1))


class ExampleIndex:
    """Finds the labelled questions most like a new one."""

    def __init__(
        self,
        *,
        sources: Sequence[str],
        labels: Sequence[str],
        row_source: np.ndarray,
        row_label: np.ndarray,
        features: Sequence[str],
        idf: np.ndarray,
        offsets: np.ndarray,
        rows: np.ndarray,
        weights: np.ndarray,
    ) -> None:
        self.sources = tuple(sources)
        self.labels = tuple(tuple(label.split(",")) if label else () for label in labels)
        self._row_source = row_source
        self._row_label = row_label
        self._features = tuple(features)
        self._slot = {feature: i for i, feature in enumerate(features)}
        self._idf = idf
        self._offsets = offsets
        self._rows = rows
        self._weights = weights

    def __len__(self) -> int:
        return len(self._row_source)

    @property
    def nbytes(self) -> int:
        """The memory its arrays take."""
        arrays = (self._row_source, self._row_label, self._idf, self._offsets, self._rows)
        return sum(array.nbytes for array in (*arrays, self._weights))

    @classmethod
    def build(
        cls, examples: Sequence[tuple[str, Example]], normalize: Callable[[str], str]
    ) -> ExampleIndex:
        """From (source, example) pairs; normalize gives the text the router compares."""
        import numpy as np

        sources = list(dict.fromkeys(source for source, _ in examples))
        source_ids = {source: i for i, source in enumerate(sources)}
        labels = list(dict.fromkeys(",".join(example.duties) for _, example in examples))
        label_ids = {label: i for i, label in enumerate(labels)}
        vectors = [pairs(normalize(example.question)) for _, example in examples]
        count = max(len(vectors), 1)
        frequency = Counter(feature for vector in vectors for feature in vector)
        features = sorted(frequency)
        slot = {feature: i for i, feature in enumerate(features)}
        idf = np.array([math.log(count / frequency[f]) for f in features], dtype=np.float32)
        postings: list[list[tuple[int, float]]] = [[] for _ in features]
        for row, vector in enumerate(vectors):
            weighted = {f: (1 + math.log(n)) * float(idf[slot[f]]) for f, n in vector.items()}
            norm = math.sqrt(sum(w * w for w in weighted.values())) or 1.0
            for feature, weight in weighted.items():
                postings[slot[feature]].append((row, weight / norm))
        offsets = np.zeros(len(features) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(p) for p in postings])
        flat = [entry for posting in postings for entry in posting]
        return cls(
            sources=sources,
            labels=labels,
            row_source=np.array([source_ids[s] for s, _ in examples], dtype=np.int32),
            row_label=np.array([label_ids[",".join(e.duties)] for _, e in examples], np.int32),
            features=features,
            idf=idf,
            offsets=offsets,
            rows=np.array([row for row, _ in flat], dtype=np.int32),
            weights=np.array([weight for _, weight in flat], dtype=np.float32),
        )

    def similar(self, text: str, limit: int, *, leave_out: str | None = None) -> list[Similar]:
        """The `limit` labelled questions most like this one (as `normalize` gave it),
        best first; none that share no pair of characters with it. `leave_out` sets one
        source file aside, so that a set is measured against the others, not itself."""
        import numpy as np

        counted = pairs(text)
        vector = {self._slot[f]: n for f, n in counted.items() if f in self._slot}
        if not vector:
            return []
        weighted = {i: (1 + math.log(n)) * float(self._idf[i]) for i, n in vector.items()}
        # A pair no example has matches nothing, but it is part of the question: it counts in
        # the length, as rare as a pair can be, so that words the bank never saw dilute it.
        unseen = math.log(max(len(self), 1))
        unseen_weights = [
            (1 + math.log(n)) * unseen for f, n in counted.items() if f not in self._slot
        ]
        norm = math.sqrt(sum(w * w for w in (*weighted.values(), *unseen_weights))) or 1.0
        rows = []
        values = []
        for i, weight in weighted.items():
            start, end = self._offsets[i], self._offsets[i + 1]
            rows.append(self._rows[start:end])
            values.append(self._weights[start:end] * np.float32(weight / norm))
        scores = np.bincount(
            np.concatenate(rows), weights=np.concatenate(values), minlength=len(self)
        )
        if leave_out is not None and leave_out in self.sources:
            scores[self._row_source == self.sources.index(leave_out)] = 0.0
        # The best, one at a time: argmax takes the first of equals, so ties come in file
        # order. (A few passes over the array beat numpy's partition, which slows down badly
        # on so many zeros.)
        found: list[Similar] = []
        for _ in range(limit):
            row = int(scores.argmax())
            if scores[row] <= 0:
                break  # rows that share no pair with the question are never taken
            found.append(
                Similar(
                    self.labels[self._row_label[row]],
                    round(float(scores[row]), 4),
                    self.sources[self._row_source[row]],
                )
            )
            scores[row] = 0.0
        return found

    # The cache file: numpy's .npz, read without pickle.
    def save(self, path: Path) -> None:
        import numpy as np

        partial = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(
            partial,
            sources=np.array(self.sources, dtype=np.str_),
            labels=np.array([",".join(label) for label in self.labels], dtype=np.str_),
            row_source=self._row_source,
            row_label=self._row_label,
            features=np.array(self._features, dtype=np.str_),
            idf=self._idf,
            offsets=self._offsets,
            rows=self._rows,
            weights=self._weights,
        )
        partial.replace(path)  # two processes starting together never read half a file

    @classmethod
    def load(cls, path: Path) -> ExampleIndex:
        import numpy as np

        with np.load(path, allow_pickle=False) as saved:
            arrays: dict[str, Any] = {name: saved[name] for name in saved.files}
        return cls(
            sources=arrays["sources"].tolist(),
            labels=arrays["labels"].tolist(),
            row_source=arrays["row_source"],
            row_label=arrays["row_label"],
            features=arrays["features"].tolist(),
            idf=arrays["idf"],
            offsets=arrays["offsets"],
            rows=arrays["rows"],
            weights=arrays["weights"],
        )


def example_files(directory: Path = EXAMPLES_DIR) -> list[Path]:
    return sorted(directory.glob("*.tsv"))


def load_examples(
    files: Sequence[Path], *, known_duties: Iterable[str]
) -> list[tuple[str, Example]]:
    known = set(known_duties)
    return [
        (path.name, example)
        for path in files
        for example in read_examples(path, known_duties=known)
    ]


def example_index(
    files: Sequence[Path],
    normalize: Callable[[str], str],
    *,
    fingerprint: str,
    known_duties: Iterable[str],
    cache_dir: Path | None,
) -> ExampleIndex:
    """The index of these files, from the cache when it was built from the same files with
    the same normaliser (`fingerprint` says which), else built now and cached."""
    known = sorted(set(known_duties))
    # The duties are part of the key: a label the catalogue no longer has is refused again.
    digest = hashlib.sha256(f"{INDEX_VERSION}\n{fingerprint}\n{known}\n".encode())
    for path in files:
        digest.update(f"{path.name}\n".encode())
        digest.update(path.read_bytes())
    cached = (
        cache_dir / f"examples-{digest.hexdigest()[:20]}.npz" if cache_dir is not None else None
    )
    if cached is not None and cached.exists():
        try:
            return ExampleIndex.load(cached)
        except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile):
            pass  # a damaged cache file is built again
    index = ExampleIndex.build(load_examples(files, known_duties=known), normalize)
    if cached is not None:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            index.save(cached)
        except OSError:
            pass  # a read-only cache costs time, not answers
    return index
