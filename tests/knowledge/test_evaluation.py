"""The evaluation report's arithmetic, on a set small enough to check by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.evaluation import DatasetError, evaluate, read_examples, render
from knowledge.router import Router


def test_metrics_by_hand(router: Router, tmp_path: Path) -> None:
    labelled = tmp_path / "set.tsv"
    labelled.write_text(
        "\n".join(
            [
                "# three in scope, two out of scope",
                "会员服务卡怎么办理\t3.2\tprocess",  # right, right
                "会员服务卡怎么办理\t3.3\tprocess",  # wrong duty (3.2 predicted)
                "民主管理部的电话是多少\t2.1,2.2,2.3,2.4\tmaterials",  # right duty, wrong aspect
                "明天几点下班\tnone\t-",  # rejected
                "会员服务卡怎么办理\tnone\t-",  # not rejected
            ]
        ),
        encoding="utf-8",
    )
    report = evaluate(router, read_examples(labelled))
    assert report.top1_accuracy() == pytest.approx(2 / 3)
    assert report.top3_accuracy() == pytest.approx(2 / 3)
    assert report.rejection_rate() == pytest.approx(1 / 2)
    assert report.aspect_accuracy() == pytest.approx(2 / 3)
    scores = report.class_scores()
    # 3.2 predicted three times, right once; its one true example was found.
    assert (scores["3.2"].precision, scores["3.2"].recall) == (pytest.approx(1 / 3), 1.0)
    assert scores["3.3"].recall == 0.0
    assert scores["none"].support == 2
    assert report.confusion()["3.3"]["3.2"] == 1
    assert len(report.errors()) == 3
    text = render(report)
    assert "line 3: 会员服务卡怎么办理" in text


def test_unknown_duty_is_refused(tmp_path: Path) -> None:
    labelled = tmp_path / "set.tsv"
    labelled.write_text("问题\t9.9\t-\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"line 1: unknown duty 9\.9"):
        read_examples(labelled, known_duties=["1.1"])


def test_unknown_aspect_is_refused(tmp_path: Path) -> None:
    labelled = tmp_path / "set.tsv"
    labelled.write_text("问题\t1.1\twhen\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="line 1: unknown aspect when"):
        read_examples(labelled)
