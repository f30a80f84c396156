"""The lexicon is data staff edit; a broken edit is refused with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.catalogue import Catalogue
from knowledge.lexicon import DEFAULT_LEXICON_PATH, LexiconError, load_lexicon
from knowledge.router import Router


def test_shipped_lexicon_covers_every_duty(catalogue: Catalogue) -> None:
    lexicon = load_lexicon(DEFAULT_LEXICON_PATH, catalogue=catalogue)
    assert set(lexicon.duty_terms) == {duty.id for duty in catalogue}
    assert set(lexicon.departments) == set(catalogue.departments())
    for terms in lexicon.duty_terms.values():
        assert len(terms["strong"]) >= 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[duties."9.9"]\nstrong = ["某事"]\n', r"\[duties.'9.9'\] is not a duty"),
        ('[duties."1.1"]\nstrong = ["卡"]\n', r"'卡' is too short"),
        ('[duties."1.1"]\nstrong = ["“家”"]\n', r"'“家”' is too short"),  # quotes are dropped
        ('[departments]\n"财务部" = ["财务部"]\n', r"'财务部' is not a department"),
        (
            '[[combinations]]\nwords = ["劳模"]\nevidence_of = "3.1"\ncounts_for = "9.9"\n',
            r"\[\[combinations\]\] '9.9' is not a duty",
        ),
        ('[aspects.when]\ncues = ["何时"]\n', r"\[aspects\]"),
    ],
)
def test_broken_lexicon_is_refused(
    catalogue: Catalogue, tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "lexicon.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LexiconError, match=message):
        load_lexicon(path, catalogue=catalogue)


def test_staff_edit_changes_routing_without_code(
    catalogue: Catalogue, tmp_path: Path, cache_dir: Path
) -> None:
    text = DEFAULT_LEXICON_PATH.read_text(encoding="utf-8")
    edited = text.replace('[duties."3.2"]\nstrong = [', '[duties."3.2"]\nstrong = ["蓝卡", ', 1)
    assert edited != text
    path = tmp_path / "lexicon.toml"
    path.write_text(edited, encoding="utf-8")
    router = Router(catalogue, load_lexicon(path, catalogue=catalogue), cache_dir=cache_dir)
    assert router.route("蓝卡怎么弄").duty == "3.2"
