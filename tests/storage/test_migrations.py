"""The Alembic migrations build exactly the SQLModel tables; `union-bot db upgrade` runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from storage.db import make_engine
from storage.migrate import current, revisions, upgrade
from tests.conftest import bot_env


def test_migrations_match_the_models(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == [], (
        "a model changed without a migration: alembic revision --autogenerate"
    )
    assert current(engine) is not None


def test_upgrade_is_repeatable_and_sqlite_uses_wal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    assert {"member", "case", "caseevent", "draft", "attachment", "outboxmessage"} <= set(
        inspect(engine).get_table_names()
    )
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_db_upgrade_command(tmp_path: Path) -> None:
    env = bot_env(database_url=f"sqlite:///{tmp_path / 'fresh.db'}")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"revision {revisions()[-1]}" in result.stdout
    assert (tmp_path / "fresh.db").exists()
