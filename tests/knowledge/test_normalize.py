"""Normalisation: what the router sees of a member's message."""

from __future__ import annotations

import pytest

from knowledge.normalize import MAX_ROUTED_CHARS, Normalizer, reads_as_english


@pytest.fixture
def normalizer() -> Normalizer:
    return Normalizer({"汇员": "会员", "公会": "工会"})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ｈｉ，早上好", "hi 早上好"),  # full-width letters and comma
        ("我们公司３０多人", "我们公司30多人"),
        ("勞模評選怎麼報名", "劳模评选怎么报名"),  # traditional → simplified
        ("會员卡的保险", "会员卡的保险"),  # mixed
        ("怎么办？！🙏😭", "怎么办"),  # punctuation and emoji
        ("汇员卡咋办", "会员卡咋办"),  # homophone typo
        ("新开的店不用建公会", "新开的店不用建工会"),
        ("GongHui  FaRen", "gonghui faren"),
        ("gōnghuì", "gonghui"),  # tone marks
        ("a\x00b\x1bc", "abc"),  # control characters
        ("评上那个“家”以后", "评上那个家以后"),  # quotes join: the words around them still meet
        ("工会的「身份证」在哪办", "工会的身份证在哪办"),
        ('就算"入会"了', "就算入会了"),
        ("评上那个'家'的单位", "评上那个家的单位"),  # a straight quote beside Chinese
        ("it's ok", "it s ok"),  # an English apostrophe still splits
    ],
)
def test_normalize(normalizer: Normalizer, raw: str, expected: str) -> None:
    assert normalizer.normalize(raw).text == expected


@pytest.mark.parametrize(
    ("raw", "is_pinyin"),
    [
        ("gonghui fanren dengji", True),
        ("huiyuanka zenme banli", True),
        ("会员卡", False),
        ("ok", False),
        ("ｈｉ，早上好", False),
        ("我想问下huiyuanka", False),
    ],
)
def test_pinyin_detection(normalizer: Normalizer, raw: str, is_pinyin: bool) -> None:
    assert normalizer.normalize(raw).is_pinyin is is_pinyin


def test_long_input_is_cut(normalizer: Normalizer) -> None:
    assert len(normalizer.normalize("会" * 10_000).text) == MAX_ROUTED_CHARS


def test_nothing_left(normalizer: Normalizer) -> None:
    assert normalizer.normalize("😀😀 ？？").text == ""
    assert normalizer.normalize("").text == ""


@pytest.mark.parametrize(
    ("text", "english"),
    [
        ("How can I join the union", True),
        ("union card", True),
        ("Can I talk to a person please", True),
        ("huiyuanka zenme ban", False),
        ("gonghui ganbu peixun shenme shihou kaishi", False),
        ("hyk zenme ban", False),  # an abbreviation and pinyin
        ("zgzj", False),
        ("how to 办会员卡", False),  # Chinese in it: the router reads it
    ],
)
def test_english_is_told_from_pinyin(text: str, english: bool) -> None:
    assert reads_as_english(text) is english
