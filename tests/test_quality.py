"""Lint, format, types and the held-out routing floors, as part of the one test command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge.evaluation import evaluate, read_examples
from knowledge.router import Router
from tests.conftest import DATA, EXAMPLES

REPO = Path(__file__).resolve().parent.parent

# Floors for the held-out sets (never tuned against, and never in the router's example bank:
# no bank question has the same normalised text as a held-out one): a regression below them
# fails the build. They sit just below what the router reaches: the first set (five labour
# disputes relabelled as none by issue 10's policy) 100, 100, 100, 93.3; the second, written
# for issue 10 with labour disputes and words shared with other bodies, 98.8, 99.4, 99.0,
# 92.7 since a question the lexicon finds no duty in is asked back about the duty its most
# similar labelled questions agree on (before: 98.2, 98.8, 99.0, 92.1).
HELD_OUT_FLOORS = {
    "questions_heldout.tsv": {"top1": 99.5, "top3": 99.5, "rejection": 99, "aspect": 93.0},
    "questions_heldout_2.tsv": {"top1": 98.5, "top3": 99.0, "rejection": 99, "aspect": 92.5},
}


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return found


@pytest.mark.parametrize(
    "command",
    [["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy"]],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_code_quality(command: list[str]) -> None:
    result = subprocess.run(
        [_tool(command[0]), *command[1:]], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(HELD_OUT_FLOORS))
def test_held_out_routing_floors(cache_dir: Path, name: str) -> None:
    flags = [f"--min-{floor}={value}" for floor, value in HELD_OUT_FLOORS[name].items()]
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "eval", str(DATA / name), *flags],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "UNIONBOT_CACHE_DIR": str(cache_dir)},
        check=False,
    )
    summary = "\n".join(result.stdout.splitlines()[:6])
    assert result.returncode == 0, summary + "\n" + result.stderr


# Floors per tuning set (top-1, rejection, aspect), each measured against the router's other
# example files: the fourth set, written in everyday words by people who do not know the
# union's terms, is the hardest. All were reset when the tuning sets became the example bank:
# their 727 rows that were held-out questions too (short everyday ones, 你好, 会员卡丢了咋办,
# written independently by several hands) were taken out, which moved every set's figures a
# little. Against the router without the bank, over all sets: top-1 98.50 → 98.64, top-3
# 99.27 → 99.62, rejection 98.68 → 98.64. Four out-of-scope questions the lexicon finds nothing
# in are now asked back about instead of referred (sets 4, 9, 29, 49: 报销单填错了 财务给退回来了
# 咋改 …, offered with 都不是 and 转人工), and one aspect moved (set 88).
TUNING_FLOORS = {
    "questions_tune.tsv": (1.00, 1.00, 0.98),
    "questions_tune_more.tsv": (0.99, 1.00, 0.97),
    "questions_tune_3.tsv": (0.99, 1.00, 0.98),
    "questions_tune_4.tsv": (0.97, 0.98, 0.99),
    "questions_tune_5.tsv": (1.00, 1.00, 1.00),
    "questions_tune_6.tsv": (1.00, 1.00, 0.96),
    "questions_tune_7.tsv": (0.99, 0.99, 0.93),
    "questions_tune_8.tsv": (0.99, 1.00, 0.99),
    "questions_tune_9.tsv": (1.00, 0.97, 1.00),
    "questions_tune_10.tsv": (0.98, 1.00, 0.96),
    "questions_tune_11.tsv": (0.96, 0.96, 0.93),
    "questions_tune_12.tsv": (0.98, 1.00, 0.95),
    "questions_tune_13.tsv": (0.97, 1.00, 0.92),
    "questions_tune_14.tsv": (0.99, 0.94, 0.97),
    "questions_tune_15.tsv": (0.97, 1.00, 0.93),
    "questions_tune_16.tsv": (1.00, 1.00, 0.96),
    "questions_tune_17.tsv": (0.97, 0.98, 0.89),
    "questions_tune_18.tsv": (0.99, 0.94, 0.95),
    "questions_tune_19.tsv": (0.98, 0.98, 0.96),
    "questions_tune_20.tsv": (0.98, 0.98, 0.96),
    "questions_tune_21.tsv": (0.99, 0.98, 0.97),
    "questions_tune_22.tsv": (0.99, 1.00, 0.93),
    "questions_tune_23.tsv": (0.99, 1.00, 0.89),
    "questions_tune_24.tsv": (0.98, 0.98, 0.90),
    "questions_tune_25.tsv": (0.98, 0.98, 0.92),
    "questions_tune_26.tsv": (1.00, 1.00, 0.99),
    "questions_tune_27.tsv": (0.99, 1.00, 0.93),
    # Writers had no general (overview) label to choose: every in-scope row names an aspect.
    "questions_tune_28.tsv": (1.00, 0.96, 0.88),
    "questions_tune_29.tsv": (1.00, 0.97, 0.90),
    "questions_tune_30.tsv": (0.99, 0.96, 0.82),
    "questions_tune_31.tsv": (1.00, 0.97, 0.85),
    "questions_tune_32.tsv": (1.00, 0.97, 0.88),
    "questions_tune_33.tsv": (1.00, 0.95, 0.88),
    "questions_tune_34.tsv": (0.97, 0.95, 0.91),
    "questions_tune_35.tsv": (0.98, 1.00, 0.87),
    # Every subject named indirectly (那张带保险的卡, 会里那个证, 老劳动英雄).
    "questions_tune_36.tsv": (0.99, 0.92, 0.88),
    "questions_tune_37.tsv": (0.96, 0.97, 0.95),
    "questions_tune_38.tsv": (0.99, 1.00, 0.91),
    # The contents held-out set 2 was asked for (disputes, other bodies' words, indirect names).
    "questions_tune_39.tsv": (1.00, 0.98, 0.87),
    "questions_tune_40.tsv": (0.98, 0.98, 0.82),
    # The same contents, a general label allowed: as held-out set 2 was written.
    "questions_tune_41.tsv": (0.99, 0.97, 0.91),
    "questions_tune_42.tsv": (1.00, 0.94, 0.94),
    "questions_tune_43.tsv": (0.98, 1.00, 0.88),
    "questions_tune_44.tsv": (0.98, 0.98, 0.93),
    "questions_tune_45.tsv": (0.99, 0.96, 0.95),
    "questions_tune_46.tsv": (0.99, 1.00, 0.93),
    "questions_tune_47.tsv": (0.98, 1.00, 0.93),
    "questions_tune_48.tsv": (1.00, 0.96, 0.83),
    "questions_tune_49.tsv": (0.98, 0.96, 0.88),
    "questions_tune_50.tsv": (0.99, 0.98, 0.90),
    "questions_tune_51.tsv": (0.99, 0.98, 0.90),
    "questions_tune_52.tsv": (0.98, 0.98, 0.93),
    "questions_tune_53.tsv": (0.99, 1.00, 0.88),
    "questions_tune_54.tsv": (0.99, 0.97, 0.95),
    "questions_tune_55.tsv": (0.98, 0.98, 0.96),
    "questions_tune_56.tsv": (0.98, 0.96, 0.90),
    "questions_tune_57.tsv": (0.98, 1.00, 0.87),
    "questions_tune_58.tsv": (0.98, 1.00, 0.93),
    "questions_tune_59.tsv": (1.00, 1.00, 0.86),
    "questions_tune_60.tsv": (1.00, 0.98, 0.89),
    "questions_tune_61.tsv": (0.97, 1.00, 0.93),
    "questions_tune_62.tsv": (0.98, 1.00, 0.89),
    "questions_tune_63.tsv": (0.99, 1.00, 0.89),
    "questions_tune_64.tsv": (0.97, 1.00, 0.88),
    "questions_tune_65.tsv": (0.96, 0.97, 0.95),
    "questions_tune_66.tsv": (0.98, 1.00, 0.93),
    "questions_tune_67.tsv": (0.98, 0.97, 0.84),
    "questions_tune_68.tsv": (0.99, 0.97, 0.89),
    "questions_tune_69.tsv": (0.97, 1.00, 0.88),
    "questions_tune_70.tsv": (0.99, 0.98, 0.92),
    "questions_tune_71.tsv": (0.97, 1.00, 0.86),
    "questions_tune_72.tsv": (0.98, 1.00, 0.83),
    "questions_tune_73.tsv": (1.00, 1.00, 0.94),
    "questions_tune_74.tsv": (0.99, 0.98, 0.92),
    "questions_tune_75.tsv": (0.96, 1.00, 0.93),
    "questions_tune_76.tsv": (0.98, 1.00, 0.85),
    "questions_tune_77.tsv": (1.00, 1.00, 0.87),
    "questions_tune_78.tsv": (0.99, 0.98, 0.93),
    "questions_tune_79.tsv": (0.99, 0.98, 0.91),
    "questions_tune_80.tsv": (0.99, 1.00, 0.93),
    "questions_tune_81.tsv": (0.97, 1.00, 0.92),
    "questions_tune_82.tsv": (0.98, 0.96, 0.86),
    "questions_tune_83.tsv": (0.98, 0.98, 0.93),
    "questions_tune_84.tsv": (0.99, 0.98, 0.91),
    "questions_tune_85.tsv": (0.99, 0.98, 0.91),
    "questions_tune_86.tsv": (0.99, 1.00, 0.87),
    "questions_tune_87.tsv": (1.00, 1.00, 0.87),
    "questions_tune_88.tsv": (0.97, 1.00, 0.88),
    "questions_tune_89.tsv": (0.99, 0.95, 0.93),
    "questions_tune_90.tsv": (0.98, 1.00, 0.94),
    "questions_tune_91.tsv": (0.98, 1.00, 0.92),
    "questions_tune_92.tsv": (0.97, 0.95, 0.90),
    "questions_tune_93.tsv": (0.99, 0.99, 0.92),
    "questions_tune_94.tsv": (0.98, 1.00, 0.94),
    "questions_tune_95.tsv": (0.98, 1.00, 0.85),
    "questions_tune_96.tsv": (0.98, 0.98, 0.91),
    "questions_tune_97.tsv": (0.98, 0.98, 0.91),
    "questions_tune_98.tsv": (0.99, 1.00, 0.93),
    "questions_tune_99.tsv": (0.96, 1.00, 0.90),
    "questions_tune_100.tsv": (0.96, 1.00, 0.90),
    "questions_tune_101.tsv": (0.98, 1.00, 0.91),
    "questions_tune_102.tsv": (0.99, 0.98, 0.91),
    "questions_tune_103.tsv": (0.99, 1.00, 0.91),
    "questions_tune_104.tsv": (0.96, 0.98, 0.89),
    "questions_tune_105.tsv": (0.97, 0.97, 0.95),
    "questions_tune_106.tsv": (0.99, 0.96, 0.91),
    "questions_tune_107.tsv": (0.99, 1.00, 0.92),
    "questions_tune_108.tsv": (0.96, 0.97, 0.86),
    "questions_tune_109.tsv": (1.00, 0.98, 0.94),
    "questions_tune_110.tsv": (0.97, 0.98, 0.87),
    "questions_tune_111.tsv": (0.97, 0.96, 0.87),
    "questions_tune_112.tsv": (0.97, 1.00, 0.90),
    "questions_tune_113.tsv": (0.99, 0.93, 0.87),
    "questions_tune_114.tsv": (0.99, 1.00, 0.92),
    "questions_tune_115.tsv": (0.97, 0.98, 0.81),
    "questions_tune_116.tsv": (0.97, 1.00, 0.92),
    "questions_tune_117.tsv": (0.98, 0.96, 0.91),
    "questions_tune_118.tsv": (0.98, 0.96, 0.89),
    "questions_tune_119.tsv": (0.98, 0.98, 0.93),
    "questions_tune_120.tsv": (0.97, 1.00, 0.86),
    "questions_tune_121.tsv": (0.98, 0.98, 0.89),
    "questions_tune_122.tsv": (0.98, 0.95, 0.89),
    "questions_tune_123.tsv": (0.96, 0.98, 0.88),
    "questions_tune_124.tsv": (0.96, 0.97, 0.89),
    "questions_tune_125.tsv": (0.97, 0.97, 0.91),
    "questions_tune_126.tsv": (0.98, 0.98, 0.92),
    "questions_tune_127.tsv": (0.98, 0.95, 0.88),
    "questions_tune_128.tsv": (0.95, 0.97, 0.87),
}


@pytest.mark.parametrize("name", sorted(TUNING_FLOORS))
def test_tuning_sets_stay_routed(router: Router, name: str) -> None:
    """The lexicon is tuned against these: an edit that breaks one of them shows here. Each
    is measured against the router's other example files, not itself."""
    report = evaluate(router, read_examples(EXAMPLES / name), leave_out=name)
    top1, rejection, aspect = TUNING_FLOORS[name]
    assert report.top1_accuracy() >= top1
    assert report.rejection_rate() >= rejection
    assert report.aspect_accuracy() >= aspect
