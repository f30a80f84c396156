"""Shared fixtures: the real catalogue and lexicon, and a router built once per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge.catalogue import Catalogue, load_catalogue
from knowledge.examples import EXAMPLES_DIR
from knowledge.router import Router, build_router
from storage.crypto import configure
from tests.factories import TEST_KEY
from tests.pgserver import (
    Cluster,
    Unavailable,
    database_name,
    install_debian_package,
    throwaway_cluster,
)

DATA = Path(__file__).resolve().parent / "data"
# The tuning sets: the router's example bank (held-out sets stay in DATA, never in the bank).
EXAMPLES = EXAMPLES_DIR
# A copy of ../shared/seeds/000_7be3a5b4ff16b554.txt, the union's published duty list.
SEED = DATA / "duty_list.txt"


def bot_env(**settings: object) -> dict[str, str]:
    """This process's environment without the developer's UNIONBOT_* settings, plus these
    (token="1:a" becomes UNIONBOT_TOKEN=1:a), for running union-bot as a subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNIONBOT_")}
    env["UNIONBOT_ENCRYPTION_KEY"] = TEST_KEY  # encryption_key=None: without one
    env.update({f"UNIONBOT_{name.upper()}": str(value) for name, value in settings.items()})
    return {k: v for k, v in env.items() if v != "None"}


def union_bot(
    cwd: Path, *args: str, timeout: float = 120, **settings: object
) -> subprocess.CompletedProcess[str]:
    """`union-bot ARGS` as a subprocess in `cwd`, with these settings (see bot_env)."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env=bot_env(**settings),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(autouse=True, scope="session")
def encryption_key() -> None:
    """Personal data is stored encrypted: the tests read and write it with their own key."""
    configure([TEST_KEY])


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


# ------------------------------------------------------------------ PostgreSQL (production)


@pytest.fixture(scope="session")
def cjk_font() -> str:
    """A font that draws Chinese, for the /stats chart: the Debian package fonts-wqy-microhei
    (the README names it), installed by the suite where it may."""
    from bot.reports import cjk_font as find_font

    family = find_font()
    if family is None:
        install_debian_package("fonts-wqy-microhei")
        family = find_font()
    if family is None:
        pytest.skip("no CJK font (Debian package fonts-wqy-microhei) and none can be installed")
    return family


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Cluster]:
    """A throwaway PostgreSQL server for the session (tests.pgserver)."""
    try:
        with throwaway_cluster() as cluster:
            yield cluster
    except Unavailable as missing:
        pytest.skip(str(missing))


@pytest.fixture
def postgres_url(postgres_server: Cluster, request: pytest.FixtureRequest) -> str:
    """A fresh, empty database on the throwaway server, for one test."""
    return postgres_server.create_database(database_name(request.node.nodeid))
