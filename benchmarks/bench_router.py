"""Router benchmark: accuracy, latency, cold start and memory, against two baselines.

Run: python -m benchmarks.bench_router [--routings N]

The baselines route the same questions in the same run:
- lexicon only: union-bot's router without its example bank (knowledge/examples), to show what
  the most similar labelled questions add; union-bot measures each tuning set against the
  bank's other files (leave one file out), and the held-out sets are never in the bank;
- bm25: BM25 (rank-bm25) over jieba tokens (default dictionary) of each duty's catalogue text;
- partial_ratio: plain rapidfuzz partial_ratio of the question against each duty's text.
Neither has a notion of "out of scope"; they reject when nothing scores (BM25 0, ratio < 50).
Figures are printed, not asserted: machines are noisy.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge.catalogue import Catalogue, Duty
from knowledge.evaluation import Example, read_examples
from knowledge.examples import EXAMPLES_DIR
from knowledge.router import Router, build_router

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
HELD_OUT = ("questions_heldout.tsv", "questions_heldout_2.tsv")
QUESTION = "会员服务卡怎么办理"

# A routing function returns its top three duties, best first; empty means "not the union's".
RouteFn = Callable[[str], list[str]]
# Given the set a question comes from (to leave it out of an example bank), a routing function.
System = Callable[[str], RouteFn]


@dataclass
class Accuracy:
    top1: float
    top3: float
    rejection: float


def duty_text(catalogue: Catalogue, duty: Duty) -> str:
    area = catalogue.area(duty.area_id)
    parts = [duty.name, duty.title, duty.department, area.name if area else ""]
    parts += [*duty.steps, *duty.materials, *duty.basis, *duty.responsibilities]
    return " ".join(parts)


def bm25_baseline(catalogue: Catalogue) -> RouteFn:
    import jieba
    from rank_bm25 import BM25Okapi

    ids = [duty.id for duty in catalogue]
    corpus = [[t for t in jieba.lcut(duty_text(catalogue, d)) if t.strip()] for d in catalogue]
    bm25 = BM25Okapi(corpus)

    def route(question: str) -> list[str]:
        tokens = [t for t in jieba.lcut(question) if t.strip()]
        scores = bm25.get_scores(tokens) if tokens else [0.0] * len(ids)
        ranked = sorted(zip(scores, ids, strict=True), key=lambda item: -item[0])
        return [duty_id for score, duty_id in ranked[:3] if score > 0]

    return route


def partial_ratio_baseline(catalogue: Catalogue) -> RouteFn:
    from rapidfuzz import fuzz

    texts = [(duty.id, duty_text(catalogue, duty)) for duty in catalogue]

    def route(question: str) -> list[str]:
        scored = sorted(
            ((fuzz.partial_ratio(question, text), duty_id) for duty_id, text in texts),
            key=lambda item: -item[0],
        )
        return [duty_id for score, duty_id in scored[:3] if score >= 50]

    return route


def accuracy(route: RouteFn, examples: Sequence[Example]) -> Accuracy:
    top1 = top3 = rejected = 0
    inside = [e for e in examples if e.in_scope]
    outside = [e for e in examples if not e.in_scope]
    for example in inside:
        offered = route(example.question)
        top1 += bool(offered) and offered[0] in example.duties
        top3 += bool(set(offered[:3]) & set(example.duties))
    for example in outside:
        rejected += not route(example.question)
    return Accuracy(
        top1 / max(len(inside), 1), top3 / max(len(inside), 1), rejected / max(len(outside), 1)
    )


def combined(system: System, sets: dict[str, Sequence[Example]]) -> Accuracy:
    """Accuracy over several sets, each routed with its own file left out of the bank."""
    inside = sum(1 for examples in sets.values() for e in examples if e.in_scope)
    outside = sum(1 for examples in sets.values() for e in examples if not e.in_scope)
    top1 = top3 = rejected = 0.0
    for source, examples in sets.items():
        a = accuracy(system(source), examples)
        here = sum(1 for e in examples if e.in_scope)
        top1 += a.top1 * here
        top3 += a.top3 * here
        rejected += a.rejection * (len(examples) - here)
    return Accuracy(top1 / max(inside, 1), top3 / max(inside, 1), rejected / max(outside, 1))


def latencies(route: RouteFn, questions: Sequence[str], count: int) -> list[float]:
    """Microseconds per call over `count` calls, cycling through the questions."""
    timings = []
    for index in range(count):
        question = questions[index % len(questions)]
        start = time.perf_counter_ns()
        route(question)
        timings.append((time.perf_counter_ns() - start) / 1000)
    return timings


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def timed_process(command: Sequence[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall time in seconds and peak RSS in MiB of one child process."""
    probe = (
        "import resource, subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
        "elapsed = time.perf_counter() - start\n"
        "print(elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *command],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout.split()
    return float(out[0]), int(out[1]) // 1024


def cold_starts(runs: int) -> None:
    env = dict(os.environ)
    union_bot = [sys.executable, "-m", "bot.cli", "route", QUESTION]
    jieba_default = [
        sys.executable,
        "-c",
        f"import jieba; jieba.setLogLevel(60); print(jieba.lcut({QUESTION!r}))",
    ]
    lexicon_only = [
        sys.executable,
        "-c",
        "from knowledge.router import build_router; "
        f"print(build_router(examples=[]).route({QUESTION!r}).to_json())",
    ]
    with tempfile.TemporaryDirectory() as empty_cache:
        first, first_rss = timed_process(union_bot, {**env, "UNIONBOT_CACHE_DIR": empty_cache})
    warm = [timed_process(union_bot, env) for _ in range(runs)]
    bare = [timed_process(lexicon_only, env) for _ in range(runs)]
    baseline = [timed_process(jieba_default, env) for _ in range(runs)]
    print(f"\ncold start, one question, median of {runs} processes:")
    print(
        f"  union-bot route            {statistics.median(t for t, _ in warm) * 1000:7.0f} ms"
        f"   peak RSS {max(m for _, m in warm)} MiB"
    )
    print(
        f"  union-bot route, 1st run   {first * 1000:7.0f} ms   peak RSS {first_rss} MiB"
        "   (writes the compact dictionary and the example index)"
    )
    print(
        f"  lexicon only (no bank)     {statistics.median(t for t, _ in bare) * 1000:7.0f} ms"
        f"   peak RSS {max(m for _, m in bare)} MiB"
    )
    print(
        f"  baseline: jieba default    {statistics.median(t for t, _ in baseline) * 1000:7.0f} ms"
        f"   peak RSS {max(m for _, m in baseline)} MiB   (import + default dictionary + cut)"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routings", type=int, default=20_000)
    parser.add_argument("--cold-runs", type=int, default=5)
    args = parser.parse_args(argv)

    router = build_router()
    router.warm()
    lexicon_only = build_router(examples=[])
    lexicon_only.warm()
    known = [duty.id for duty in router.catalogue]
    files = [*(DATA / name for name in HELD_OUT), *sorted(EXAMPLES_DIR.glob("*.tsv"))]
    sets = {path.name: read_examples(path, known_duties=known) for path in files}
    everything = [example for examples in sets.values() for example in examples]
    questions = [example.question for example in everything]

    def union_bot(router: Router) -> System:
        def for_set(source: str) -> RouteFn:
            def route(question: str) -> list[str]:
                found = router.route(question, leave_out=source)
                if found.duty is None:
                    return []
                offered = (c.duty for c in found.candidates if c.duty != found.duty)
                return [found.duty, *offered][:3]

            return route

        return for_set

    bm25 = bm25_baseline(router.catalogue)
    ratio = partial_ratio_baseline(router.catalogue)
    systems: dict[str, System] = {
        "union-bot": union_bot(router),
        "lexicon only": union_bot(lexicon_only),
        "bm25": lambda source: bm25,
        "partial_ratio": lambda source: ratio,
    }
    index = router.examples
    assert index is not None
    print(
        f"questions: {len(everything)} in {len(sets)} sets; held-out: "
        + ", ".join(f"{name} {len(sets[name])}" for name in HELD_OUT)
        + f"; example bank: {len(index)} questions in {len(index.sources)} files"
    )
    print(f"\n{'system':<14} {'set':<11} {'top-1':>7} {'top-3':>7} {'reject':>7}")
    for name, system in systems.items():
        groups = [(f"held-out {n}", [held]) for n, held in enumerate(HELD_OUT, 1)]
        groups.append(("all", list(sets)))
        for label, names in groups:
            a = combined(system, {source: sets[source] for source in names})
            print(f"{name:<14} {label:<11} {a.top1:7.1%} {a.top3:7.1%} {a.rejection:7.1%}")

    print(f"\nlatency per question, {args.routings} routings in one process (µs):")
    print(f"{'system':<14} {'p50':>8} {'p99':>8} {'max':>9}")
    for name, system in systems.items():
        timings = latencies(system(HELD_OUT[0]), questions, args.routings)
        print(
            f"{name:<14} {percentile(timings, 0.5):8.1f} {percentile(timings, 0.99):8.1f} "
            f"{max(timings):9.1f}"
        )

    import resource

    print(
        f"\npeak RSS of this process (all four systems): "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB; the example "
        f"bank's index: {index.nbytes / 2**20:.1f} MiB of arrays"
    )
    cold_starts(args.cold_runs)


if __name__ == "__main__":
    main()
