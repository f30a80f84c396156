"""Engines and sessions. Nothing is built at import time: callers make the engine."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, create_engine

from storage import models as _models  # noqa: F401  (registers the tables)
from storage.private import private_file

T = TypeVar("T")


def make_engine(url: str, *, migrate: bool = True) -> Engine:
    """An engine for `url`; SQLite files get WAL, so a second process can read while one writes."""
    if url.startswith("sqlite:///") and ":memory:" not in url:
        # The database and its folder are the bot's user's alone (SQLite gives its -wal and
        # -shm files the database file's permissions).
        private_file(Path(url.removeprefix("sqlite:///")))
    connect_args: dict[str, Any] = {}
    if url.startswith("sqlite"):
        connect_args = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(url, connect_args=connect_args)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    if migrate:
        from storage.migrate import upgrade

        upgrade(engine)
    from storage.search import install

    install()  # every case written through this engine's sessions stays searchable
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # What is deleted or overwritten (an erased member, a value re-encrypted) is zeroed on disk,
    # not left in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def forget_old_pages(engine: Engine) -> None:
    """SQLite: write the WAL back into the database and empty it, so that the old versions of
    changed pages (plaintext before a rotation, an erased member's data) are gone from disk."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


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


class DatabaseThreads:
    """Database work off the event loop: while a transaction waits on the disk or the server,
    the bot goes on answering other members and sending.

    SQLite gets one thread: it takes one writer at a time anyway, and two transactions in
    parallel could both read and then race to write (SQLITE_BUSY without waiting). PostgreSQL
    gets several, within the engine's connection pool.
    """

    POSTGRES_THREADS = 4

    def __init__(self, engine: Engine, threads: int | None = None) -> None:
        if threads is None:
            threads = 1 if engine.dialect.name == "sqlite" else self.POSTGRES_THREADS
        self.engine = engine
        self.threads = threads
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="union-bot-db")

    async def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`function(*args, **kwargs)` in a database thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, functools.partial(function, *args, **kwargs)
        )

    async def session(self, work: Callable[[Session], T], *, attempts: int = 3) -> T:
        """`in_session(engine, work)` in a database thread."""
        return await self.call(in_session, self.engine, work, attempts=attempts)

    def close(self) -> None:
        """Let the work under way finish; take no more."""
        self._executor.shutdown(wait=True)
