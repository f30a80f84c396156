"""The fixed `union-bot route` interface and the eval command, run as real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATA, EXAMPLES

KEYS = {"question", "kind", "duty", "aspect", "score", "candidates"}


def run(
    args: list[str], stdin: bytes = b"", cache_dir: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ)
    if cache_dir is not None:
        env["UNIONBOT_CACHE_DIR"] = str(cache_dir)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_route_reads_stdin_and_survives_any_line(cache_dir: Path) -> None:
    lines = [
        "会员服务卡怎么办理".encode(),
        b"",
        b"   \t ",
        ("会" * 10_000).encode(),
        "😀😀😀".encode(),
        b"\x00\x07\x1b[2J\x7f",
        b"\xff\xfe\xc3\x28 invalid utf-8",
        "民主管理部的电话是多少\r".encode(),
        "明天几点下班".encode(),
    ]
    result = run(["route"], b"\n".join(lines) + b"\n", cache_dir)
    assert result.returncode == 0, result.stderr.decode()
    out = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    assert len(out) == len(lines)
    assert all(set(item) - {"refer_to", "related"} == KEYS for item in out)
    assert out[0]["duty"] == "3.2" and out[0]["kind"] == "duty" and out[0]["aspect"] == "process"
    assert [item["duty"] for item in out[1:7]] == [None] * 6
    assert out[3]["question"] == "会" * 10_000
    assert "\ufffd" in out[6]["question"]  # invalid bytes are replaced, not fatal
    assert out[7]["question"] == "民主管理部的电话是多少"  # CRLF input
    assert (out[7]["duty"], out[7]["aspect"]) == ("2.1", "contact")
    assert (out[8]["kind"], out[8]["duty"]) == ("out_of_scope", None)
    assert result.stderr == b""


def test_route_last_line_without_newline(cache_dir: Path) -> None:
    result = run(["route"], "你好\n劳模评选".encode(), cache_dir)
    out = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [item["kind"] for item in out] == ["smalltalk", "duty"]


def test_route_argument(cache_dir: Path) -> None:
    result = run(["route", "工会的法人证书要去哪里办"], cache_dir=cache_dir)
    assert result.returncode == 0
    (line,) = result.stdout.decode().splitlines()
    data = json.loads(line)
    assert data["question"] == "工会的法人证书要去哪里办"
    assert data["duty"] == "3.3"
    assert data["candidates"][0]["duty"] == "3.3"


def test_eval_prints_a_rasa_style_report(cache_dir: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = run(
        [
            "eval",
            str(EXAMPLES / "questions_tune.tsv"),
            "--report",
            str(report),
            "--min-top1",
            "90",
        ],
        cache_dir=cache_dir,
    )
    text = result.stdout.decode()
    assert result.returncode == 0, text + result.stderr.decode()
    # A file of the router's example bank is measured against the other files.
    assert "questions_tune.tsv is one of the router's example files" in text
    for heading in (
        "top-1 accuracy",
        "top-3 accuracy",
        "out-of-scope rejection rate",
        "aspect accuracy",
        "precision",
        "confusion matrix",
        "errors",
    ):
        assert heading in text
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["top1_accuracy"] >= 0.9
    assert set(data["report"]) >= {"3.2", "none"}


def test_eval_fails_below_the_floor(cache_dir: Path, tmp_path: Path) -> None:
    labelled = tmp_path / "wrong.tsv"
    # Deliberately mislabelled: the router is right, so accuracy is 0%.
    labelled.write_text("会员服务卡怎么办理\t1.1\tprocess\n你好\tnone\t-\n", encoding="utf-8")
    result = run(["eval", str(labelled), "--min-top1", "95"], cache_dir=cache_dir)
    assert result.returncode == 1
    assert "top-1 accuracy 0.00% is below the floor 95%" in result.stderr.decode()
    assert (
        run(["eval", str(labelled), "--min-rejection", "95"], cache_dir=cache_dir).returncode == 0
    )


def test_eval_names_the_bad_line(cache_dir: Path, tmp_path: Path) -> None:
    labelled = tmp_path / "bad.tsv"
    labelled.write_text("# comment\n会员卡\t3.2\n", encoding="utf-8")
    result = run(["eval", str(labelled)], cache_dir=cache_dir)
    assert result.returncode == 2
    assert "line 2: expected 3 or 4 tab-separated columns" in result.stderr.decode()


def test_eval_accepts_every_aspect_route_prints(cache_dir: Path, tmp_path: Path) -> None:
    labelled = tmp_path / "overview.tsv"
    labelled.write_text(
        "会员服务卡\t3.2\toverview\n老板拖欠工资\tnone\t-\t劳动保障监察\n", encoding="utf-8"
    )
    result = run(["eval", str(labelled)], cache_dir=cache_dir)
    assert result.returncode == 0, result.stderr.decode()
    assert "examples: 2 (in scope 1, out of scope 1)" in result.stdout.decode()


@pytest.mark.parametrize(
    "path",
    [
        EXAMPLES / "questions_tune.tsv",
        DATA / "questions_heldout.tsv",
        DATA / "questions_heldout_2.tsv",
    ],
    ids=lambda path: path.name,
)
def test_labelled_sets_are_large_enough(path: Path) -> None:
    from knowledge.evaluation import read_examples

    examples = read_examples(path)
    assert len(examples) >= 150
    assert sum(not e.in_scope for e in examples) >= 20


def test_route_argument_with_invalid_utf8(cache_dir: Path) -> None:
    env = {**os.environ, "UNIONBOT_CACHE_DIR": str(cache_dir), "PYTHONIOENCODING": "ascii"}
    result = subprocess.run(
        [sys.executable.encode(), b"-m", b"bot.cli", b"route", b"\xff\xfe" + "会员卡".encode()],
        capture_output=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    data = json.loads(result.stdout.decode("utf-8"))
    assert data["question"] == "\ufffd\ufffd会员卡"
    assert data["duty"] == "3.2"


def test_route_names_who_handles_a_labour_dispute(cache_dir: Path) -> None:
    lines = [
        "老板拖欠工资三个月了怎么办",
        "工伤认定要什么材料",
        "党员组织关系怎么转",
        "会员服务卡怎么办理",
    ]
    result = run(["route"], stdin="\n".join(lines).encode(), cache_dir=cache_dir)
    wages, injury, party, card = (json.loads(line) for line in result.stdout.decode().splitlines())
    assert (wages["kind"], wages["duty"]) == ("out_of_scope", None)
    assert "劳动保障监察" in wages["refer_to"] and wages["related"] == ["3.1"]
    assert "工伤认定" in injury["refer_to"] and injury["related"] == ["2.3"]
    assert party["refer_to"] == "所在单位的党组织" and "related" not in party
    assert set(card) == KEYS, "a duty line keeps the stable interface"
