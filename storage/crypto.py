"""Personal data encrypted at rest, at the application level (Fernet: AES-128-CBC with an
HMAC-SHA256, from the `cryptography` package).

The columns that hold what members wrote or who they are use `EncryptedText` or
`EncryptedJSON`: the database (and its backups) holds only ciphertext, and the key lives
outside it (a setting or a key file, bot.settings). Uploaded files are encrypted the same way
(`encrypt_bytes`).

Several keys may be configured: the first encrypts, every one decrypts (MultiFernet), so a new
key can be introduced without downtime; `union-bot keys rotate` then re-encrypts every value
under it (`rotate_database`), after which the old key can go.

A value written before encryption was introduced (no prefix) is read as it is, and encrypted
by the next rotation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

PREFIX = "enc1:"
FILE_PREFIX = b"UBENC1"


class EncryptionKeyError(RuntimeError):
    """No key, a malformed key, or data this key cannot decrypt: said in one line."""


_lock = threading.Lock()
_keys: MultiFernet | None = None
_first: list[Fernet] = []  # the key that encrypts
_index: list[bytes] = []  # per key, first first: the key of its keyed hashes (storage.search)
INDEX_LABEL = b"union-bot search index v1"


def new_key() -> str:
    return Fernet.generate_key().decode()


def configure(keys: Sequence[str]) -> None:
    """The keys from now on: the first encrypts, all decrypt."""
    global _keys
    if not keys:
        raise EncryptionKeyError("no encryption key: run `union-bot keys new`")
    try:
        fernets = [Fernet(key.strip().encode()) for key in keys]
    except (ValueError, TypeError) as error:
        raise EncryptionKeyError(
            "the encryption key is malformed (32 url-safe base64-encoded bytes expected; "
            "`union-bot keys new` makes one)"
        ) from error
    with _lock:
        _keys = MultiFernet(fernets)
        _first[:] = fernets[:1]
        _index[:] = [
            hmac.new(base64.urlsafe_b64decode(key.strip()), INDEX_LABEL, hashlib.sha256).digest()
            for key in keys
        ]


def configured() -> bool:
    return _keys is not None


def _fernet() -> MultiFernet:
    if _keys is None:
        raise EncryptionKeyError("no encryption key configured: run `union-bot keys new`")
    return _keys


def keyed_hash(text: str, *, key: int = 0) -> str:
    """A keyed hash of `text` (HMAC-SHA256 under a key derived from encryption key `key`, 0:
    the first): equal texts can be found without storing them; without the key, nothing can
    be learnt or checked from it."""
    if not _index:
        raise EncryptionKeyError("no encryption key configured: run `union-bot keys new`")
    return hmac.new(_index[key], text.encode(), hashlib.sha256).hexdigest()[:32]


def key_count() -> int:
    return len(_index)


def encrypt_text(plain: str) -> str:
    return PREFIX + _fernet().encrypt(plain.encode()).decode()


def decrypt_text(stored: str) -> str:
    if not stored.startswith(PREFIX):
        return stored  # written before encryption was introduced
    try:
        return _fernet().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken as error:
        raise EncryptionKeyError(
            "stored data cannot be decrypted with the configured key (a wrong or missing key: "
            "set UNIONBOT_ENCRYPTION_KEY to the key the data was written with)"
        ) from error


def encrypt_bytes(plain: bytes) -> bytes:
    return FILE_PREFIX + _fernet().encrypt(plain)


def decrypt_bytes(stored: bytes) -> bytes:
    if not stored.startswith(FILE_PREFIX):
        return stored
    try:
        return _fernet().decrypt(stored[len(FILE_PREFIX) :])
    except InvalidToken as error:
        raise EncryptionKeyError(
            "a stored file cannot be decrypted with the configured key"
        ) from error


class EncryptedText(TypeDecorator[str]):
    """A text column whose value is stored encrypted."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else encrypt_text(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else decrypt_text(value)


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON value stored encrypted (as text)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        return encrypt_text(json.dumps(value, ensure_ascii=False))

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            return value  # a JSON column not yet migrated
        return json.loads(decrypt_text(value))


# ---------------------------------------------------------------------------------- rotation

# Every encrypted column: (table, primary key, column).
ENCRYPTED_COLUMNS: list[tuple[str, str, str]] = []


def encrypted(table: str, key: str, *columns: str) -> None:
    """Register a table's encrypted columns for rotation (storage.models does)."""
    ENCRYPTED_COLUMNS.extend((table, key, column) for column in columns)


def rotate_database(engine: Engine) -> int:
    """Re-encrypt every encrypted value under the first key (plaintext left from before
    encryption included), row by row: the bot may run meanwhile. How many values changed."""
    from sqlalchemy import column as col
    from sqlalchemy import table as tbl

    fernet = _fernet()
    changed = 0
    for table, key, column in ENCRYPTED_COLUMNS:
        source = tbl(table, col(key), col(column))
        with engine.connect() as connection:
            rows = connection.execute(
                select(source.c[key], source.c[column]).where(source.c[column].is_not(None))
            ).all()
        for row_key, value in rows:
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            if text.startswith(PREFIX):
                try:
                    fresh = PREFIX + fernet.rotate(text[len(PREFIX) :].encode()).decode()
                except InvalidToken as error:
                    raise EncryptionKeyError(
                        f"{table}.{column}: a value cannot be decrypted with the configured keys"
                    ) from error
            else:
                fresh = encrypt_text(text)
            if fresh == text:
                continue
            with engine.begin() as connection:
                connection.execute(
                    update(source)
                    .where(source.c[key] == row_key)
                    .where(source.c[column] == value)
                    .values({column: fresh})
                )
            changed += 1
    from storage.db import forget_old_pages

    forget_old_pages(engine)  # no old ciphertext or plaintext left in SQLite's WAL
    if left := not_under_first_key(engine):
        raise EncryptionKeyError(
            f"{left} values are not under the new key yet (an instance still running with the "
            "old key alone wrote them): restart every instance, then run `keys rotate` again "
            "before removing the old key"
        )
    return changed


def not_under_first_key(engine: Engine) -> int:
    """How many stored values the first key alone cannot read (plaintext counts too)."""
    from sqlalchemy import column as col
    from sqlalchemy import table as tbl

    first = _first[0] if _first else None
    if first is None:
        raise EncryptionKeyError("no encryption key configured: run `union-bot keys new`")
    left = 0
    for table, key, column in ENCRYPTED_COLUMNS:
        source = tbl(table, col(key), col(column))
        with engine.connect() as connection:
            values = connection.execute(
                select(source.c[column]).where(source.c[column].is_not(None))
            ).scalars()
            for value in values:
                text = value if isinstance(value, str) else ""
                try:
                    first.decrypt(text.removeprefix(PREFIX).encode())
                except InvalidToken:
                    left += 1
    return left


def rotate_files(files_dir: Path) -> int:
    """Re-encrypt every stored upload under the first key (and encrypt those from before)."""
    from storage.private import write_private

    fernet = _fernet()
    changed = 0
    if not files_dir.is_dir():
        return 0
    for path in sorted(files_dir.glob("*/*")):
        if path.name.startswith("."):
            continue  # a file being written
        try:
            stored = path.read_bytes()
        except FileNotFoundError:
            continue  # deleted meanwhile (an erasure, the orphan sweep)
        if stored.startswith(FILE_PREFIX):
            try:
                fresh = FILE_PREFIX + fernet.rotate(stored[len(FILE_PREFIX) :])
            except InvalidToken as error:
                raise EncryptionKeyError(
                    f"{path.name}: a stored file cannot be decrypted with the configured keys"
                ) from error
        else:
            fresh = encrypt_bytes(stored)
        if not path.exists():
            continue  # deleted meanwhile: not to be brought back
        write_private(path, fresh)  # a reader sees the old file or the new, never half of one
        changed += 1
    return changed


def write_key_file(path: Path, keys: Sequence[str]) -> None:
    """The key file: a key a line, newest first, readable by the bot's user alone."""
    from storage.private import write_private

    text = "# union-bot encryption keys, newest first (the first encrypts, every one decrypts)\n"
    write_private(path, (text + "".join(f"{key}\n" for key in keys)).encode())


def read_key_file(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]
