"""A throwaway PostgreSQL server for the tests and the benchmarks: the Debian package, run as
its unprivileged user, on 127.0.0.1 and a free port, from a temporary data directory."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class Unavailable(RuntimeError):
    """PostgreSQL is not installed and cannot be installed here (not root, or no apt-get)."""


def install_debian_package(package: str) -> None:
    """A Debian package the suite needs, installed by the suite itself where it may."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", package]
    if subprocess.run(install, env=env, capture_output=True, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=False)
        subprocess.run(install, env=env, capture_output=True, check=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _initdb() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1] if found else None


class Cluster:
    """A running server: its port, and how to stop and start it again (for fault runs)."""

    def __init__(self, base: Path, initdb: Path, as_user: list[str], port: int) -> None:
        self.base = base
        self.data = base / "data"
        self.sockets = base / "sockets"
        self.pg_ctl = str(initdb.parent / "pg_ctl")
        self.as_user = as_user
        self.port = port

    def start(self) -> None:
        # On 127.0.0.1 only; fsync off: the data is thrown away anyway.
        options = f"-c listen_addresses=127.0.0.1 -k {self.sockets} -p {self.port} -c fsync=off"
        # -l: the server must not inherit our pipes, or run() would wait for it to exit.
        where = ["-D", str(self.data), "-l", str(self.base / "log")]
        subprocess.run(
            [*self.as_user, self.pg_ctl, "start", "-w", "-o", options, *where],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )

    def stop(self, mode: str = "immediate") -> None:
        subprocess.run(
            [*self.as_user, self.pg_ctl, "-D", str(self.data), "-m", mode, "stop"],
            check=False,
            capture_output=True,
        )

    def create_database(self, name: str) -> str:
        """A fresh, empty database; its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"


def database_name(label: str) -> str:
    """A database name for one test (or run): readable, and unique by a digest of the label."""
    digest = hashlib.sha1(label.encode()).hexdigest()[:10]
    name = "".join(c if c.isalnum() else "_" for c in label.rpartition("::")[2])[:40].lower()
    return f"t_{name}_{digest}"


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    initdb = _initdb()
    if initdb is None:
        install_debian_package("postgresql")
        initdb = _initdb()
    if initdb is None:
        raise Unavailable("PostgreSQL (Debian package postgresql) is not installed and cannot be")
    # Not under pytest's tmp directory: that one is private to root, and the server runs as
    # the postgres user.
    base = Path(tempfile.mkdtemp(prefix="union-bot-pg-"))
    sockets = base / "sockets"
    sockets.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(base, "postgres")
        shutil.chown(sockets, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    options = ["-U", "postgres", "-E", "UTF8", "--auth=trust"]
    subprocess.run(
        [*as_user, str(initdb), "-D", str(base / "data"), *options],
        check=True,
        capture_output=True,
    )
    cluster = Cluster(base, initdb, as_user, free_port())
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)
