"""The router's example bank: labelled questions, the most similar of which it consults."""

from __future__ import annotations

from pathlib import Path

import pytest

import knowledge.router as router_module
from knowledge.catalogue import Catalogue
from knowledge.evaluation import evaluate, read_examples
from knowledge.examples import DatasetError, ExampleIndex, example_index, load_examples
from knowledge.lexicon import DEFAULT_LEXICON_PATH, load_lexicon
from knowledge.router import RouteKind, Router
from tests.conftest import DATA, EXAMPLES

# All synthetic: how members ask after an application for hardship aid, and questions that are
# not the union's at all.
BANK = """\
# a small bank for the tests
申请交上去多久能有信儿\t3.1\tprocess
困难补助的申请交了多久能有回信\t3.1\tprocess
帮扶申请递上去以后多久有结果\t3.1\tprocess
交了申请多久能有个回音\t3.1\t-
会员服务卡怎么办理才最快\t3.1\t-
会员服务卡怎么办理啊，在线等\t4.2\t-
社保断缴了咋补一下\t3.1\t-
明天天气咋样啊\tnone\t-
"""


def _router(catalogue: Catalogue, cache_dir: Path, *files: Path) -> Router:
    lexicon = load_lexicon(DEFAULT_LEXICON_PATH, catalogue=catalogue)
    return Router(catalogue, lexicon, cache_dir=cache_dir, examples=files)


def _ids(catalogue: Catalogue) -> list[str]:
    return [duty.id for duty in catalogue.duties]


@pytest.fixture
def bank(tmp_path: Path) -> Path:
    path = tmp_path / "bank.tsv"
    path.write_text(BANK, encoding="utf-8")
    return path


def test_the_bank_is_the_tuning_sets_and_never_holds_a_held_out_question(router: Router) -> None:
    assert router.example_files, "the shipped router consults its example bank"
    assert {path.parent for path in router.example_files} == {EXAMPLES}
    assert not any("heldout" in path.name for path in router.example_files)

    def seen(path: Path) -> set[str]:
        return {router.normalizer.normalize(e.question).compact for e in read_examples(path)}

    bank = set().union(*(seen(path) for path in router.example_files))
    for name in ("questions_heldout.tsv", "questions_heldout_2.tsv"):
        assert not seen(DATA / name) & bank, f"{name} must stay out of the example bank"


def test_similar_questions_are_found_best_first_and_a_file_can_be_left_out(
    catalogue: Catalogue, bank: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.tsv"
    other.write_text("申请交上去多久能有信儿\t4.2\t-\n", encoding="utf-8")
    rows = load_examples([bank, other], known_duties=_ids(catalogue))
    index = ExampleIndex.build(rows, lambda question: question)
    assert len(index) == 9

    found = index.similar("申请交上去多久能有信儿", 3)
    assert [s.similarity for s in found] == sorted((s.similarity for s in found), reverse=True)
    assert found[0].similarity == pytest.approx(1.0, abs=1e-3)
    assert {found[0].source, found[1].source} == {"bank.tsv", "other.tsv"}

    left = index.similar("申请交上去多久能有信儿", 3, leave_out="bank.tsv")
    assert [s.source for s in left] == ["other.tsv"], "only questions sharing a pair count"
    assert index.similar("", 3) == [] and index.similar("嗯", 3) == []


def test_equal_questions_come_in_file_order(catalogue: Catalogue, tmp_path: Path) -> None:
    files = []
    for name in ("a.tsv", "b.tsv", "c.tsv", "d.tsv"):
        files.append(tmp_path / name)
        files[-1].write_text("会员服务卡怎么办理\t3.2\t-\n", encoding="utf-8")
    files.append(tmp_path / "e.tsv")  # a pair every question has weighs nothing (its IDF is 0)
    files[-1].write_text("明天天气咋样\tnone\t-\n", encoding="utf-8")
    index = ExampleIndex.build(load_examples(files, known_duties=_ids(catalogue)), str)
    for limit in (1, 2, 3):
        found = index.similar("会员服务卡怎么办理", limit)
        assert [s.source for s in found] == ["a.tsv", "b.tsv", "c.tsv"][:limit]


def test_the_index_is_cached_by_content_and_a_damaged_cache_is_built_again(
    catalogue: Catalogue, bank: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"

    def index() -> ExampleIndex:
        return example_index(
            [bank], str, fingerprint="f", known_duties=_ids(catalogue), cache_dir=cache
        )

    first = index()
    (cached,) = cache.glob("examples-*.npz")
    # Read back from the cache, without building (normalising every question) again.
    with monkeypatch.context() as patched:
        patched.setattr(ExampleIndex, "build", classmethod(lambda *a: pytest.fail("built")))
        again = index()
    assert again.similar("交了申请多久有回音", 5) == first.similar("交了申请多久有回音", 5)

    cached.write_bytes(b"not an index")
    assert index().similar("交了申请多久有回音", 5) == first.similar("交了申请多久有回音", 5)

    # The catalogue is part of the key: a duty it no longer has is refused, cache or not.
    with pytest.raises(DatasetError, match="unknown duty"):
        example_index([bank], str, fingerprint="f", known_duties=["1.1"], cache_dir=cache)

    bank.write_text(BANK + "交了申请多久有回音\t1.1\t-\n", encoding="utf-8")
    assert index().similar("交了申请多久有回音", 1)[0].duties == ("1.1",), "an edit is seen"
    assert len(list(cache.glob("examples-*.npz"))) == 2


def test_a_bank_file_with_an_unknown_duty_is_refused_with_its_line(
    catalogue: Catalogue, cache_dir: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("会员卡怎么办\t3.2\t-\n会员卡丢了\t9.9\t-\n", encoding="utf-8")
    router = _router(catalogue, cache_dir, bad)
    with pytest.raises(DatasetError, match=r"bad\.tsv line 2: unknown duty 9\.9"):
        router.route("会员卡怎么办")


def test_a_question_the_lexicon_finds_nothing_in_is_asked_back_about_its_similar_ones(
    catalogue: Catalogue, cache_dir: Path, bank: Path
) -> None:
    question = "申请交上去多久能有信儿啊"
    assert _router(catalogue, cache_dir).route(question).duty is None, "the lexicon alone"

    route = _router(catalogue, cache_dir, bank).route(question)
    assert (route.kind, route.duty, route.by_example) == (RouteKind.DUTY, "3.1", True)
    assert route.candidates[0].duty == "3.1"
    assert not route.is_confident(0.0), "a guess is always asked back about"
    assert route.to_json()["by_example"] is True
    assert "by_example" not in _router(catalogue, cache_dir, bank).route("会员卡").to_json()


# Each question below is kept from a guess by one rule alone: with that rule off, it is guessed.
RULES_BANK = """\
我家猫咪最近老是掉毛是怎么回事\tnone\t-
我家猫咪最近老是掉毛咋回事啊\tnone\t-
我家猫咪最近老是掉毛\tnone\t-
申请交上去多久能有信儿\t3.1\tprocess
工会是干什么的呢你们说说\t3.1\t-
工会是干什么的呢你们讲讲\t3.1\t-
社保断缴了好几个月了咋补一下\t3.1\t-
社保断缴了好几个月了咋补呢\t3.1\t-
能有信儿吗\t3.1\t-
how long until I hear about my hardship aid application\t3.1\t-
"""


@pytest.fixture
def rules_router(catalogue: Catalogue, cache_dir: Path, tmp_path: Path) -> Router:
    path = tmp_path / "rules.tsv"
    path.write_text(RULES_BANK, encoding="utf-8")
    return _router(catalogue, cache_dir, path)


def test_no_guess_where_the_similar_questions_are_not_the_unions(
    rules_router: Router, catalogue: Catalogue, cache_dir: Path, tmp_path: Path
) -> None:
    question = "我家猫咪最近老是掉毛是咋回事呀"
    assert rules_router.route(question).duty is None
    relabelled = tmp_path / "relabelled.tsv"
    relabelled.write_text(RULES_BANK.replace("none", "3.1"), encoding="utf-8")
    assert _router(catalogue, cache_dir, relabelled).route(question).duty == "3.1"


def test_no_guess_from_questions_not_alike_enough(
    rules_router: Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    question = "申请一下那个蓝色的大风车转呀转"  # one pair in common, the rest never seen
    assert rules_router.route(question).duty is None
    monkeypatch.setattr(router_module, "SIMILAR_GUESS_VOTES", 0.0)
    monkeypatch.setattr(router_module, "SIMILAR_GUESS_CLOSEST", 0.0)
    assert rules_router.route(question).duty == "3.1"


def test_no_guess_where_nothing_is_named_beyond_the_union_and_how_it_asks(
    rules_router: Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    for question in ("工会是干什么的呢你们", "会" * 50):
        assert rules_router.route(question).duty is None, question
    monkeypatch.setattr(Router, "_says_something", lambda self, subject: True)
    assert rules_router.route("工会是干什么的呢你们").duty == "3.1"


def test_no_guess_on_a_question_of_a_few_characters(
    rules_router: Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert rules_router.route("能有信儿吗？").duty is None
    monkeypatch.setattr(router_module, "SIMILAR_GUESS_MIN_CHARS", 0)
    assert rules_router.route("能有信儿吗？").duty == "3.1"


def test_a_referral_keeps_its_referral(rules_router: Router) -> None:
    """Similar questions labelled 3.1 do not outvote the lexicon's other body."""
    route = rules_router.route("社保断缴了好几个月了咋补")
    assert route.kind is RouteKind.OUT_OF_SCOPE and route.refer_to
    assert route.duty is None and not route.by_example


def test_no_guess_for_english(rules_router: Router, monkeypatch: pytest.MonkeyPatch) -> None:
    """English gets the English reply and its buttons, not a guess from similar questions."""
    question = "how long until I hear about my application"
    assert rules_router.route(question).duty is None
    monkeypatch.setattr(router_module, "reads_as_english", lambda text: False)
    assert rules_router.route(question).duty == "3.1"


def test_similar_questions_fill_the_places_after_the_lexicons_duties(
    catalogue: Catalogue, cache_dir: Path, bank: Path
) -> None:
    question = "会员服务卡怎么办理"
    alone = _router(catalogue, cache_dir).route(question)
    assert [c.duty for c in alone.candidates] == ["3.2"]

    route = _router(catalogue, cache_dir, bank).route(question)
    assert (route.duty, route.score, route.aspect) == (alone.duty, alone.score, alone.aspect)
    assert [c.duty for c in route.candidates][:1] == ["3.2"]
    assert {c.duty for c in route.candidates} == {"3.2", "3.1", "4.2"}
    assert not route.by_example


def test_a_set_in_the_bank_is_measured_against_the_others(
    catalogue: Catalogue, cache_dir: Path, bank: Path
) -> None:
    router = _router(catalogue, cache_dir, bank)
    examples = read_examples(bank)
    question = next(e for e in examples if e.question == "申请交上去多久能有信儿")
    assert router.route(question.question).by_example
    # Left out, the file's questions are not consulted at all: the bank has no other file.
    left = router.route(question.question, leave_out="bank.tsv")
    assert left.duty is None
    report = evaluate(router, examples, leave_out="bank.tsv")
    assert all(not o.route.by_example for o in report.outcomes)


def test_the_shipped_bank_places_what_the_lexicon_cannot(router: Router) -> None:
    route = router.route("申请交上去多久能有信儿啊")
    assert (route.duty, route.by_example) == ("3.1", True)
