"""The inbox: every update from Telegram, stored before Telegram hears that it arrived.

`store` runs before the acknowledgement (the next getUpdates offset, or a webhook's 200);
`claim` gives one process the right to handle an update; `done` records that it was handled;
`unhandled` lists, at start-up, what a crash left behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.db import session_scope
from storage.models import InboxUpdate, utcnow

# How long a process may take over an update before another may try it (a crashed process
# holds nothing for longer).
CLAIM = timedelta(minutes=2)
# Handled updates are kept this long (a redelivery within it is recognised), then deleted.
KEEP_HANDLED = timedelta(days=2)


def store(engine: Engine, update_id: int, payload: dict[str, Any], chat_key: int | None) -> bool:
    """Keep the update; False if it was stored already (a redelivery, or another instance)."""
    try:
        with session_scope(engine) as session:
            session.add(InboxUpdate(update_id=update_id, payload=payload, chat_key=chat_key))
    except IntegrityError:
        return False
    return True


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


def claim(engine: Engine, update_id: int, instance: str, *, now: datetime | None = None) -> bool:
    """Take this update for this instance: False if it is handled, or another instance has it."""
    now = now or utcnow()
    with session_scope(engine) as session:
        taken = session.execute(
            update(InboxUpdate)
            .where(col(InboxUpdate.update_id) == update_id)
            .where(col(InboxUpdate.handled_at).is_(None))
            .where(_free_for(instance, now))
            .values(claimed_by=instance, claimed_until=now + CLAIM)
        )
    return getattr(taken, "rowcount", 0) == 1


def done(engine: Engine, update_id: int) -> None:
    with session_scope(engine) as session:
        session.execute(
            update(InboxUpdate)
            .where(col(InboxUpdate.update_id) == update_id)
            .values(handled_at=utcnow(), claimed_until=None)
        )


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
