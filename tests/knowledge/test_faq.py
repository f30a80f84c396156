"""The curated answers are data staff edit: a broken entry is refused with its name."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.catalogue import Catalogue
from knowledge.faq import FaqError, load_faq
from knowledge.forms import load_forms

TOPICS = ["拖欠工资"]


def _load(tmp_path: Path, catalogue: Catalogue, body: str) -> None:
    path = tmp_path / "faq.toml"
    path.write_text(body, encoding="utf-8")
    load_faq(catalogue=catalogue, forms=load_forms(), topics=TOPICS, path=path)


def test_the_shipped_answers_load(catalogue: Catalogue) -> None:
    labour = ["解除劳动关系与补偿", "劳动合同", "加班与休息", "工伤认定", "职业病诊断"]
    labour += ["孕期与产假权益", "社保欠缴", "用工是否合法", "法律援助"]
    faq = load_faq(catalogue=catalogue, forms=load_forms(), topics=[*TOPICS, *labour])
    assert faq.for_topic("拖欠工资") is not None
    found = faq.match("我想加入工会")
    assert found is not None and found[0].key == "join"


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (
            'id = "x"\nasks = ["入会"]\nanswer = "问{phone:财务部}"\nsource = "s"',
            "no such department",
        ),
        ('id = "x"\nasks = ["入会"]\nanswer = "{materials:nope}"\nsource = "s"', "no such form"),
        ('id = "x"\nasks = ["入会"]\nanswer = "好"', "no source"),
        ('id = "x"\nanswer = "好"\nsource = "s"', "either `asks` or `topic`"),
        ('topic = "天气"\nanswer = "好"\nsource = "s"', "not an out-of-scope topic"),
        ('id = "x"\nasks = ["入会"]\nanswer = "好"\nsource = "s"\nbuttons = ["call"]', "button"),
        ('id = "x"\nasks = ["会"]\nanswer = "好"\nsource = "s"', "shorter than"),
    ],
)
def test_broken_answers_are_refused(
    tmp_path: Path, catalogue: Catalogue, entry: str, problem: str
) -> None:
    with pytest.raises(FaqError) as caught:
        _load(tmp_path, catalogue, "[[answers]]\n" + entry + "\n")
    assert problem in str(caught.value) and "answer 1 (" in str(caught.value)
