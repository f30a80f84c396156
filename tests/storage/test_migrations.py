"""The Alembic migrations build exactly the SQLModel tables; `union-bot db upgrade` runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import JSON, String, inspect
from sqlmodel import SQLModel

from storage.crypto import EncryptedJSON, EncryptedText
from storage.db import make_engine
from storage.migrate import current, revisions, upgrade
from tests.conftest import bot_env


def _same_on_sqlite(
    context: Any, inspected: Any, metadata: Any, inspected_type: Any, metadata_type: Any
) -> bool | None:
    """SQLite keeps JSON, VARCHAR and TEXT alike: migration 0007 leaves its columns (now
    holding encrypted text) as they are there."""
    if isinstance(inspected_type, JSON | String) and isinstance(
        metadata_type, EncryptedJSON | EncryptedText
    ):
        return False
    return None


def test_migrations_match_the_models(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": _same_on_sqlite})
        differences = compare_metadata(context, SQLModel.metadata)
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


def _populated_at_0006(engine: Any) -> None:
    upgrade(engine, "0006")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO member (id, telegram_id, chat_id, profile, awaiting_handoff, blocked, "
            'created_at, last_seen_at) VALUES (1, 77, 77, \'{"name": "张测试"}\', false, '
            "false, '2026-12-01 00:00:00', '2026-12-01 00:00:00')"
        )
        connection.exec_driver_sql(
            "INSERT INTO draft (id, version, member_id, form_id, stage, answers, "
            "return_to_review, created_at, updated_at) VALUES (1, 1, 1, 'service_card', "
            "'FILLING', '{\"name\": \"张测试\"}', false, '2026-12-01 00:00:00', "
            "'2026-12-01 00:00:00')"
        )


def _reads_back(engine: Any) -> None:
    from sqlmodel import Session, select

    from storage.models import Draft, Member

    with Session(engine) as session:
        assert session.exec(select(Member)).one().profile == {"name": "张测试"}
        assert session.exec(select(Draft)).one().answers == {"name": "张测试"}


def test_a_populated_database_upgrades_and_reads_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}", migrate=False)
    _populated_at_0006(engine)
    upgrade(engine)
    assert current(engine) == revisions()[-1]
    _reads_back(engine)


def test_a_populated_postgresql_database_upgrades_and_reads_back(postgres_url: str) -> None:
    engine = make_engine(postgres_url, migrate=False)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    _populated_at_0006(engine)
    upgrade(engine)
    assert current(engine) == revisions()[-1]
    _reads_back(engine)
    engine.dispose()
