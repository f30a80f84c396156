"""Segmentation keeps the union's terms whole, on a dictionary that loads fast."""

from __future__ import annotations

from pathlib import Path

from knowledge.router import Router
from knowledge.tokenizer import COMPACT_WORDS, Segmenter, compact_dictionary, import_jieba

DOMAIN_TERMS = ["年审", "职工之家", "服务卡", "法人资格", "劳模", "工人先锋号", "集体协商"]
SENTENCE = "服务卡年审和法人资格证，劳模、工人先锋号评选，职工之家验收，集体协商咋办"


def test_default_dictionary_splits_domain_terms() -> None:
    """Why we need a user dictionary at all."""
    jieba = import_jieba()
    default = jieba.Tokenizer()
    tokens = default.lcut(SENTENCE, HMM=False)
    assert [term for term in DOMAIN_TERMS if term not in tokens]


def test_domain_terms_stay_whole(tmp_path: Path) -> None:
    segmenter = Segmenter(DOMAIN_TERMS, cache_dir=tmp_path)
    tokens = segmenter.cut(SENTENCE)
    assert all(term in tokens for term in DOMAIN_TERMS), tokens


def test_router_segmenter_knows_the_lexicon(router: Router) -> None:
    tokens = router.segmenter.cut("会员服务卡年审要带什么材料")
    assert tokens[:2] == ["会员服务卡", "年审"]


def test_tokens_add_up_to_the_text(router: Router) -> None:
    text = "我 想 办 会员卡  啊"
    assert "".join(router.segmenter.tokens(text)) == text


def test_compact_dictionary_is_written_once(tmp_path: Path) -> None:
    path = compact_dictionary(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == COMPACT_WORDS
    stamp = path.stat().st_mtime_ns
    assert compact_dictionary(tmp_path) == path
    assert path.stat().st_mtime_ns == stamp
