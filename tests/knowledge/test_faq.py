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


_LABOUR = ["解除劳动关系与补偿", "劳动合同", "加班与休息", "工伤认定", "职业病诊断"]
_LABOUR += ["孕期与产假权益", "社保欠缴", "用工是否合法", "法律援助"]


def test_the_shipped_answers_load(catalogue: Catalogue) -> None:
    faq = load_faq(catalogue=catalogue, forms=load_forms(), topics=[*TOPICS, *_LABOUR])
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
        ('id = "x"\nasks = ["能申请*"]\nanswer = "好"\nsource = "s"', "empty piece"),
    ],
)
def test_broken_answers_are_refused(
    tmp_path: Path, catalogue: Catalogue, entry: str, problem: str
) -> None:
    with pytest.raises(FaqError) as caught:
        _load(tmp_path, catalogue, "[[answers]]\n" + entry + "\n")
    assert problem in str(caught.value) and "answer 1 (" in str(caught.value)


@pytest.mark.parametrize(
    ("question", "found"),
    [
        ("家里困难能申请工会帮扶吗", "能申请*帮扶"),
        ("我这种情况能不能申请一下帮扶", "能不能申请*帮扶"),
        ("帮扶能申请吗", "帮扶*能申请吗"),  # no words between is fine too
        ("能申请吗，我想问问会员服务卡", None),  # the pieces must come in order and close
        ("能申请的东西太多了，我说的不是这个，是工会那个慰问活动帮扶", None),
    ],
)
def test_asks_with_words_between_their_pieces(
    catalogue: Catalogue, question: str, found: str | None
) -> None:
    faq = load_faq(catalogue=catalogue, forms=load_forms(), topics=[*TOPICS, *_LABOUR])
    match = faq.match(question)
    assert (match[1] if match else None) == found
    if match:
        assert match[0].key == "hardship_who"
