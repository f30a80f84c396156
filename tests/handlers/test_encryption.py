"""Issue 12 §1: personal data is encrypted at rest, the key lives outside the database, a
rotation keeps everything readable, and a missing or wrong key fails loudly."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from storage import crypto
from storage.crypto import (
    EncryptionKeyError,
    new_key,
    not_under_first_key,
    rotate_database,
    rotate_files,
)
from storage.db import make_engine
from storage.models import Case, Draft
from tests.conftest import union_bot
from tests.factories import TEST_KEY, make_id_number, make_mobile
from tests.handlers.conftest import Harness
from tests.handlers.test_forms import _forms, fill, start

HEALTH = "我老公查出癌症，家里困难，电话 13900001234"
# What the form helpers type for the first person.
ID_NUMBER = make_id_number(date(1980, 3, 9), sequence=100)
PHONE = make_mobile(0)


async def _everything(harness: Harness) -> None:
    """An application with photos, a consultation about health, a draft under way."""
    form = _forms(harness)["service_card"]
    await start(harness, form)
    await fill(harness, form)
    await harness.press("提交")
    await harness.say(HEALTH)
    await harness.press("转人工")
    await start(harness, _forms(harness)["hardship_aid"])


def _raw(paths: list[Path]) -> bytes:
    return b"".join(p.read_bytes() for p in paths if p.is_file())


async def test_the_database_file_and_the_files_hold_no_personal_data(
    harness: Harness, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the raw file is SQLite's")
    await _everything(harness)
    database = Path(database_url.removeprefix("sqlite:///"))
    raw = _raw([database, database.with_name(database.name + "-wal")])
    files = harness.app.bot_data["services"].files_dir
    stored = _raw(sorted(Path(files).rglob("*")))
    assert stored, "the ID-card photos were stored"
    for secret in (ID_NUMBER, PHONE, "13900001234", "癌症", "张测试"):
        assert secret.encode() not in raw, secret
        assert secret.encode() not in stored, secret
    # …and the bot reads it all back.
    with Session(harness.engine) as session:
        case = session.exec(select(Case).where(Case.form_id == "service_card")).one()
        assert case.answers and case.answers["name"] == "张测试"


async def test_a_rotation_keeps_everything_readable(harness: Harness) -> None:
    await _everything(harness)
    newer = new_key()
    crypto.configure([newer, TEST_KEY])  # `keys new --add`, then the bots restarted
    assert not_under_first_key(harness.engine) > 10  # the old key wrote them all
    assert rotate_database(harness.engine) > 10
    assert not_under_first_key(harness.engine) == 0  # checked by the rotation itself too
    assert rotate_files(harness.app.bot_data["services"].files_dir) >= 1
    crypto.configure([newer])  # the old key removed
    try:
        with Session(harness.engine) as session:
            assert session.exec(select(Case).where(Case.kind == "consultation")).one().subject
            draft = session.exec(select(Draft).where(Draft.form_id == "hardship_aid")).one()
            assert draft.consented_at is not None
            case = session.exec(select(Case).where(Case.form_id == "service_card")).one()
            assert case.answers and case.answers["id_number"] == ID_NUMBER
        crypto.configure([TEST_KEY])  # the old key alone no longer reads it
        with (
            pytest.raises(EncryptionKeyError, match="cannot be decrypted"),
            Session(harness.engine) as session,
        ):
            session.exec(select(Case)).all()
    finally:
        crypto.configure([TEST_KEY])


def test_a_wrong_or_missing_key_fails_loudly(tmp_path: Path) -> None:
    with pytest.raises(EncryptionKeyError, match="malformed"):
        crypto.configure(["not-a-key"])
    run = union_bot(
        tmp_path,
        "run",
        timeout=60,
        token="1:a",
        encryption_key=None,
        data_dir=tmp_path,
        staff_chat_general=-1,
    )
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0, run.stderr
    assert "no encryption key" in run.stderr and "keys new" in run.stderr


def test_keys_new_writes_a_private_key_file_and_refuses_to_overwrite(tmp_path: Path) -> None:
    settings: dict[str, object] = {"encryption_key": None, "data_dir": tmp_path}
    made = union_bot(tmp_path, "keys", "new", **settings)
    assert made.returncode == 0, made.stderr
    key_file = tmp_path / "union-bot.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert len(crypto.read_key_file(key_file)) == 1
    again = union_bot(tmp_path, "keys", "new", **settings)
    assert again.returncode == 2 and "--add" in again.stderr
    key_file.chmod(0o644)
    loose = union_bot(tmp_path, "misses", **settings)
    assert loose.returncode == 2 and "chmod 600" in loose.stderr


def test_legacy_plaintext_is_read_and_encrypted_by_a_rotation(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO miss (question, reason, created_at) VALUES "
            "('旧的明文问题', 'UNSURE', '2026-12-01 00:00:00')"
        )
    from storage.models import Miss

    with Session(engine) as session:
        assert session.exec(select(Miss)).one().question == "旧的明文问题"
    assert rotate_database(engine) == 1
    assert (
        "旧的明文问题".encode()
        not in (tmp_path / "old.db").read_bytes() + (tmp_path / "old.db-wal").read_bytes()
    )
    with Session(engine) as session:
        assert session.exec(select(Miss)).one().question == "旧的明文问题"
    engine.dispose()
