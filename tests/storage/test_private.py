"""Issue 12 §1: the data folder is 0700 and the database and uploads 0600, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from storage.db import make_engine
from storage.models import Miss, MissReason
from storage.private import write_private


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0o000)  # the most open there is: files would be 0666, folders 0777
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_and_its_folder_are_private(tmp_path: Path, open_umask: None) -> None:
    database = tmp_path / "data" / "union-bot.db"
    engine = make_engine(f"sqlite:///{database}")
    with Session(engine) as session:  # a write, so that SQLite makes its -wal file
        session.add(Miss(question="测试", reason=MissReason.UNSURE))
        session.commit()
        assert _mode(database.parent) == 0o700
        assert _mode(database) == 0o600
        wal = database.with_name(database.name + "-wal")
        assert wal.exists() and _mode(wal) == 0o600
    engine.dispose()


def test_an_existing_database_is_made_private(tmp_path: Path) -> None:
    database = tmp_path / "old.db"
    database.touch(mode=0o644)
    database.chmod(0o644)
    make_engine(f"sqlite:///{database}").dispose()
    assert _mode(database) == 0o600


def test_an_upload_copy_is_private(tmp_path: Path, open_umask: None) -> None:
    target = tmp_path / "files" / "ab" / "abcdef"
    write_private(target, b"%PDF-1.4")
    assert target.read_bytes() == b"%PDF-1.4"
    assert _mode(target) == 0o600
    assert _mode(target.parent) == 0o700 and _mode(target.parent.parent) == 0o700
