"""Finding cases by what is stored encrypted (issue 12 §1): staff search by a member's name,
their unit or the question, and the database holds none of these as text.

Each case keeps keyed hashes (storage.crypto.keyed_hash) of the one- and two-character pieces
of those values; a search hashes the pieces of what was typed and asks for the cases that have
them all, then reads only those to check. A case's keys are rewritten whenever its values
change (a listener on every flush), and an emptied case keeps only a marker that says it was
indexed. Cases filed before the index existed have no keys and are read directly.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, distinct, event, exists, func, insert, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from storage import crypto
from storage.cases import PURGED_SUBJECT
from storage.models import Case, CaseKind, SearchKey

# The answers staff search by, besides the member's label and the question.
FIELDS = ("name", "unit", "grassroots_union")
INDEXED = ("answers", "subject", "member_label")
SUBJECT_INDEXED = 300  # characters of a question; enough to find it by
MARKER = "\x00indexed"  # every indexed case has this key, even with nothing to search by


def normal(text: str) -> str:
    """As compared: full-width to half-width, lower case, no spaces."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def pieces(text: str) -> set[str]:
    """The one- and two-character pieces of a value."""
    value = normal(text)
    return {*value, *(value[i : i + 2] for i in range(len(value) - 1))}


def wanted(needle: str) -> set[str]:
    """What a search must find all of: its two-character pieces (a single character: itself)."""
    value = normal(needle)
    if len(value) < 2:
        return {value} if value else set()
    return {value[i : i + 2] for i in range(len(value) - 1)}


def searchable(case: Case) -> list[str]:
    """The member's label, their answers' name and units, and a consultation's question (an
    application's subject is its form's title, the same for all)."""
    answers = case.answers or {}
    values = [case.member_label or "", *(str(answers.get(key) or "") for key in FIELDS)]
    if case.kind is CaseKind.CONSULTATION and case.subject != PURGED_SUBJECT:
        values.append((case.subject or "")[:SUBJECT_INDEXED])
    return [value for value in values if value]


def keys_of(case: Case) -> set[str]:
    found = {MARKER}
    for value in searchable(case):
        found |= pieces(value)
    return {crypto.keyed_hash(piece) for piece in found}


def write_keys(connection: Connection, case: Case) -> None:
    connection.execute(delete(SearchKey).where(col(SearchKey.case_id) == case.id))
    rows = [{"case_id": case.id, "digest": digest} for digest in sorted(keys_of(case))]
    connection.execute(insert(SearchKey), rows)


def _before_flush(session: OrmSession, _context: Any, _instances: Any) -> None:
    for gone in session.deleted:
        if isinstance(gone, Case) and gone.id is not None:
            session.connection().execute(
                delete(SearchKey).where(col(SearchKey.case_id) == gone.id)
            )


def _after_flush(session: OrmSession, _context: Any) -> None:
    for case in (*session.new, *session.dirty):
        if not isinstance(case, Case) or case.id is None or case in session.deleted:
            continue
        state = inspect(case)
        if case in session.new or any(state.attrs[name].history.has_changes() for name in INDEXED):
            write_keys(session.connection(), case)


def install() -> None:
    """Keep every session's cases indexed (once per process)."""
    if not event.contains(OrmSession, "after_flush", _after_flush):
        event.listen(OrmSession, "before_flush", _before_flush)
        event.listen(OrmSession, "after_flush", _after_flush)


def candidates(session: Session, needle: str) -> set[int] | None:
    """The cases that may hold `needle`: those with keys for all its pieces (under any
    configured key: a rotation under way), and those never indexed. None: too short to use
    the index (nothing typed)."""
    parts = wanted(needle)
    if not parts:
        return None
    found: set[int] = set()
    for key in range(crypto.key_count()):
        digests = {crypto.keyed_hash(part, key=key) for part in parts}
        query = (
            select(SearchKey.case_id)
            .where(col(SearchKey.digest).in_(digests))
            .group_by(col(SearchKey.case_id))
            .having(func.count(distinct(col(SearchKey.digest))) == len(digests))
        )
        found |= set(session.exec(query).all())
    return found | unindexed(session)


def unindexed(session: Session) -> set[int]:
    has_keys = exists().where(col(SearchKey.case_id) == col(Case.id))
    found = session.exec(select(col(Case.id)).where(~has_keys))
    return {case_id for case_id in found if case_id is not None}


def reindex(engine: Engine, case_ids: Iterable[int] | None = None) -> int:
    """Write the keys of every case (after a key rotation, or for cases filed before the
    index), one case per transaction: the bot may run meanwhile. How many cases."""
    with Session(engine) as session:
        every = (i for i in session.exec(select(col(Case.id))) if i is not None)
        ids = list(case_ids) if case_ids is not None else list(every)
    for case_id in ids:
        with Session(engine) as session:
            case = session.get(Case, case_id)
            if case is None:
                continue
            write_keys(session.connection(), case)
            session.commit()
    return len(ids)
