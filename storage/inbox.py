"""The inbox: every update from Telegram, stored before Telegram hears that it arrived.

`store` runs before the acknowledgement (the next getUpdates offset, or a webhook's 200);
`claim` gives one process the right to handle an update; `done` records that it was handled;
`unhandled` lists, at start-up, what a crash left behind.

Several instances share the table. The instance that stores an update holds it for CLAIM, so
that the others leave it alone while it waits on that instance's queue; an instance that died
loses it when the time runs out. One chat's updates are claimed in order, whichever instance
received them: an update can only be claimed once every earlier update of its chat was handled.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import bindparam, exists, insert, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.db import session_scope
from storage.models import InboxUpdate, ScheduledRun, utcnow

# How long a process may take over an update before another may try it (a crashed process
# holds nothing for longer).
CLAIM = timedelta(minutes=2)
# Handled updates are kept this long (a redelivery within it is recognised), then deleted.
KEEP_HANDLED = timedelta(days=2)


class Claim(Enum):
    TAKEN = "taken"  # this instance handles it now
    GONE = "gone"  # handled already, or another live instance has it
    WAIT = "wait"  # an earlier update of the same chat is not handled yet


# Every update is stored, claimed and marked: these statements are built once (building one from
# the ORM's attributes costs more than running it). An update is claimed only when its chat
# has no earlier update still unhandled.
_INBOX = InboxUpdate.__table__  # type: ignore[attr-defined]
_EARLIER = _INBOX.alias("earlier")
_CLAIM = (
    update(_INBOX)
    .where(_INBOX.c.update_id == bindparam("id"))
    .where(_INBOX.c.handled_at.is_(None))
    .where(
        or_(
            _INBOX.c.claimed_until.is_(None),
            _INBOX.c.claimed_until < bindparam("now"),
            _INBOX.c.claimed_by == bindparam("instance"),
        )
    )
    .where(
        ~exists()
        .where(_EARLIER.c.chat_key == _INBOX.c.chat_key)
        .where(_EARLIER.c.update_id < _INBOX.c.update_id)
        .where(_EARLIER.c.handled_at.is_(None))
    )
    .values(claimed_by=bindparam("instance"), claimed_until=bindparam("until"))
)
_STORE = insert(_INBOX)
# Stored, and told in the same statement whether an earlier update of its chat is not handled
# yet (then the new one waits for it).
_STORE_IN_TURN = insert(_INBOX).returning(
    exists()
    .where(_EARLIER.c.chat_key == bindparam("earlier_chat"))
    .where(_EARLIER.c.update_id < bindparam("earlier_than"))
    .where(_EARLIER.c.handled_at.is_(None))
    .label("waits")
)
_CLAIMED = select(_INBOX.c.handled_at, _INBOX.c.claimed_by, _INBOX.c.claimed_until).where(
    _INBOX.c.update_id == bindparam("id")
)
_DONE = (
    update(_INBOX)
    .where(_INBOX.c.update_id.in_(bindparam("ids", expanding=True)))
    .values(handled_at=bindparam("at"), claimed_until=None)
)


def _row(
    update_id: int,
    payload: dict[str, Any],
    chat_key: int | None,
    instance: str | None,
    now: datetime | None,
) -> dict[str, Any]:
    """The inbox row of an arriving update, held for `instance` if one is named."""
    now = now or utcnow()
    return {
        "update_id": update_id,
        "payload": payload,
        "chat_key": chat_key,
        "received_at": now,
        "claimed_by": instance,
        "claimed_until": now + CLAIM if instance is not None else None,
    }


def store(
    engine: Engine,
    update_id: int,
    payload: dict[str, Any],
    chat_key: int | None,
    *,
    instance: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Keep the update, held for `instance` (the one that will queue it); False if it was
    stored already (a redelivery, or another instance)."""
    try:
        with engine.begin() as connection:
            connection.execute(_STORE, _row(update_id, payload, chat_key, instance, now))
    except IntegrityError:
        return False
    return True


def store_in_turn(
    engine: Engine,
    update_id: int,
    payload: dict[str, Any],
    chat_key: int | None,
    *,
    instance: str | None = None,
    now: datetime | None = None,
) -> bool | None:
    """`store`, telling also whether the update's turn has come: None if it was stored
    already; True if no earlier update of its chat is stored and unhandled, so that `instance`,
    holding it, may handle it without claiming it again; False if it must wait for one.

    Only for a process that alone fetches updates, in order, and stores each before fetching
    the next (polling: Telegram answers one getUpdates at a time for a bot). Updates stored
    concurrently or out of order (webhooks, several instances) must be claimed at their turn:
    one instance's store cannot see another's uncommitted one."""
    row = _row(update_id, payload, chat_key, instance, now)
    try:
        with engine.begin() as connection:
            waits = connection.execute(
                _STORE_IN_TURN, {**row, "earlier_chat": chat_key, "earlier_than": update_id}
            ).scalar_one()
    except IntegrityError:
        return None
    return not waits


def state(engine: Engine, update_id: int) -> InboxUpdate | None:
    with Session(engine) as session:
        return session.get(InboxUpdate, update_id)


def _free_for(instance: str, now: datetime) -> Any:
    """Not taken, or taken by this instance (before a restart), or the taker's time is up."""
    return or_(
        col(InboxUpdate.claimed_until).is_(None),
        col(InboxUpdate.claimed_until) < now,
        col(InboxUpdate.claimed_by) == instance,
    )


def claim(engine: Engine, update_id: int, instance: str, *, now: datetime | None = None) -> Claim:
    """Take this update for this instance, if it is its chat's turn."""
    now = now or utcnow()
    with engine.begin() as connection:
        taken = connection.execute(
            _CLAIM, {"id": update_id, "now": now, "instance": instance, "until": now + CLAIM}
        )
        if taken.rowcount == 1:
            return Claim.TAKEN
        row = connection.execute(_CLAIMED, {"id": update_id}).first()
    if row is None or row.handled_at is not None:
        return Claim.GONE
    until = row.claimed_until
    if until is not None and until.tzinfo is None:
        until = until.replace(tzinfo=now.tzinfo)  # SQLite keeps no zone
    free = until is None or until < now or row.claimed_by == instance
    return Claim.WAIT if free else Claim.GONE


def blocker(engine: Engine, update_id: int) -> int | None:
    """The earliest update of the same chat not handled yet, that this one waits for."""
    with Session(engine) as session:
        row = session.get(InboxUpdate, update_id)
        if row is None or row.chat_key is None:
            return None
        return session.exec(
            select(InboxUpdate.update_id)
            .where(col(InboxUpdate.chat_key) == row.chat_key)
            .where(col(InboxUpdate.update_id) < update_id)
            .where(col(InboxUpdate.handled_at).is_(None))
            .order_by(col(InboxUpdate.update_id))
            .limit(1)
        ).first()


def done(engine: Engine, *update_ids: int) -> None:
    """Mark these updates handled (one statement for all)."""
    if not update_ids:
        return
    with engine.begin() as connection:
        connection.execute(_DONE, {"ids": list(update_ids), "at": utcnow()})


def unhandled(engine: Engine, instance: str, *, limit: int = 10_000) -> Sequence[InboxUpdate]:
    """What is stored and not handled, nor taken by another live instance, oldest first."""
    with Session(engine) as session:
        return session.exec(
            select(InboxUpdate)
            .where(col(InboxUpdate.handled_at).is_(None))
            .where(_free_for(instance, utcnow()))
            .order_by(col(InboxUpdate.update_id))
            .limit(limit)
        ).all()


def forget_handled(session: Session, *, now: datetime) -> int:
    """Delete handled updates older than KEEP_HANDLED: they hold what members wrote."""
    old = session.exec(
        select(InboxUpdate)
        .where(col(InboxUpdate.handled_at).is_not(None))
        .where(col(InboxUpdate.handled_at) < now - KEEP_HANDLED)
    ).all()
    for row in old:
        session.delete(row)
    return len(old)


def first_to_run(engine: Engine, job: str, period: str, instance: str) -> bool:
    """Record that `instance` runs `job` for `period`; False if another instance did already."""
    try:
        with session_scope(engine) as session:
            session.add(ScheduledRun(job=job, period=period, instance=instance))
    except IntegrityError:
        return False
    return True


def forget_runs(session: Session, *, now: datetime) -> int:
    old = session.exec(
        select(ScheduledRun).where(col(ScheduledRun.ran_at) < now - KEEP_HANDLED)
    ).all()
    for row in old:
        session.delete(row)
    return len(old)
