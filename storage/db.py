"""Engines and sessions. Nothing is built at import time: callers make the engine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, create_engine

from storage import models as _models  # noqa: F401  (registers the tables)

T = TypeVar("T")


def make_engine(url: str, *, migrate: bool = True) -> Engine:
    """An engine for `url`; SQLite files get WAL, so a second process can read while one writes."""
    if url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    connect_args: dict[str, Any] = {}
    if url.startswith("sqlite"):
        connect_args = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(url, connect_args=connect_args)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    if migrate:
        from storage.migrate import upgrade

        upgrade(engine)
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back on an error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def in_session(engine: Engine, work: Callable[[Session], T], *, attempts: int = 3) -> T:
    """Run `work` as one unit of work, again if a draft changed under it (StaleDataError:
    another process, or an album of photos, saved the same draft in between)."""
    for attempt in range(attempts):
        try:
            with session_scope(engine) as session:
                return work(session)
        except StaleDataError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")
