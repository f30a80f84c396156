"""Shared fixtures: the real catalogue and lexicon, and a router built once per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge.catalogue import Catalogue, load_catalogue
from knowledge.router import Router, build_router

DATA = Path(__file__).resolve().parent / "data"
# A copy of ../shared/seeds/000_7be3a5b4ff16b554.txt, the union's published duty list.
SEED = DATA / "duty_list.txt"


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def router(cache_dir: Path) -> Router:
    return build_router(cache_dir=cache_dir)


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")
