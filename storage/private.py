"""Folders and files only the bot's own user can read, whatever the umask: the data folder
0700, the database and every stored upload 0600."""

from __future__ import annotations

import os
from pathlib import Path

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create the folder (and its missing parents) for the bot's user alone."""
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    path.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    for folder in missing:
        folder.chmod(DIRECTORY_MODE)  # mkdir's mode is narrowed by the umask, never widened
    return path


def private_file(path: Path) -> Path:
    """Create the file empty if it is not there, and make it the bot's user's alone."""
    private_dir(path.parent)
    descriptor = os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE)
    os.close(descriptor)
    path.chmod(FILE_MODE)
    return path


def write_private(path: Path, content: bytes) -> None:
    """Write a file that only the bot's user can read (an upload's copy, encrypted by the
    caller; the key file), whole or not at all: written beside it, flushed to disk, then put
    in its place, so that a crash or a second writer never leaves half a file."""
    private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{id(content)}.tmp")
    descriptor = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, FILE_MODE)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.chmod(FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
