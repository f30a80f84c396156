"""Shared fixtures: the real catalogue and lexicon, and a router built once per test session."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge.catalogue import Catalogue, load_catalogue
from knowledge.router import Router, build_router

DATA = Path(__file__).resolve().parent / "data"
# A copy of ../shared/seeds/000_7be3a5b4ff16b554.txt, the union's published duty list.
SEED = DATA / "duty_list.txt"


def bot_env(**settings: object) -> dict[str, str]:
    """This process's environment without the developer's UNIONBOT_* settings, plus these
    (token="1:a" becomes UNIONBOT_TOKEN=1:a), for running union-bot as a subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNIONBOT_")}
    env.update({f"UNIONBOT_{name.upper()}": str(value) for name, value in settings.items()})
    return env


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


def _initdb() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1] if found else None


def install_debian_package(package: str) -> None:
    """A Debian package the suite needs, installed by the suite itself where it may."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", package]
    if subprocess.run(install, env=env, capture_output=True, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=False)
        subprocess.run(install, env=env, capture_output=True, check=False)


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
def postgres_server() -> Iterator[tuple[Path, int]]:
    """A throwaway PostgreSQL cluster on a Unix socket: (socket directory, port)."""
    initdb = _initdb()
    if initdb is None:
        install_debian_package("postgresql")
        initdb = _initdb()
    if initdb is None:
        pytest.skip("PostgreSQL (Debian package postgresql) is not installed and cannot be")
    # Not under pytest's tmp directory: that one is private to root, and the server runs as
    # the postgres user.
    base = Path(tempfile.mkdtemp(prefix="union-bot-pg-"))
    data, sockets = base / "data", base / "sockets"
    sockets.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(base, "postgres")
        shutil.chown(sockets, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = 54000 + os.getpid() % 1000
    subprocess.run(
        [*as_user, str(initdb), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    pg_ctl = str(initdb.parent / "pg_ctl")
    options = f"-c listen_addresses='' -k {sockets} -p {port} -c fsync=off"
    # -l: the server must not inherit our pipes, or run() would wait for it to exit.
    subprocess.run(
        [*as_user, pg_ctl, "-D", str(data), "-l", str(base / "log"), "-o", options, "-w", "start"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=60,
    )
    try:
        yield sockets, port
    finally:
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: tuple[Path, int], request: pytest.FixtureRequest) -> str:
    """A fresh, empty database on the throwaway cluster, for one test."""
    import psycopg

    sockets, port = postgres_server
    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name)[:50].lower()
    with psycopg.connect(
        host=str(sockets), port=port, user="postgres", dbname="postgres", autocommit=True
    ) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@/{name}?host={sockets}&port={port}"
