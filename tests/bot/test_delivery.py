"""Issue 11 §1: members are answered at once while a staff chat works through its backlog;
members are served concurrently and each in order; the bot stops at once."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, col, select
from telegram import Update

from bot.fake import FakeUser
from bot.processing import PerChatOrder
from bot.services import Services
from knowledge.router import Router
from storage.cases import enqueue
from storage.db import session_scope
from storage.models import OutboxMessage, OutboxStatus, utcnow
from tests.bot.live import live_bot, svc_of, until
from tests.handlers.conftest import DEMOCRATIC, ORGANIZATION, PUBLICITY, RIGHTS


async def test_members_are_answered_while_a_staff_chat_works_through_its_backlog(
    tmp_path: Path, router: Router
) -> None:
    async with live_bot(tmp_path, router) as (app, fake):
        svc = svc_of(app)
        with session_scope(svc.engine) as session:
            for n in range(8):  # eight cards owed to one group: four seconds at 2 a second
                enqueue(session=session, chat_id=RIGHTS, text=f"积压 {n}")
        svc.delivery.wake()
        members = [FakeUser(id=710000 + n, first_name=f"会员{n}") for n in range(10)]
        for member in members:
            await app.update_queue.put(
                Update.de_json(fake.user_message(member, text="你好", enqueue=False), app.bot)
            )
        waited = await until(lambda: all(fake.bot_messages(m.id) for m in members))
        assert waited < 1.0, f"members waited {waited:.2f} s behind the staff chat"
        assert len(fake.bot_messages(RIGHTS)) <= 4  # the group is still paced
        await until(lambda: len(fake.bot_messages(RIGHTS)) == 8, timeout=8)
        assert [m["text"] for m in fake.bot_messages(RIGHTS)] == [f"积压 {n}" for n in range(8)]


async def test_each_member_in_order_members_at_once(tmp_path: Path, router: Router) -> None:
    processor = PerChatOrder()
    seen: list[tuple[int, int]] = []
    overlap = 0
    running: set[int] = set()

    async def work(chat: int, n: int) -> None:
        nonlocal overlap
        running.add(chat)
        overlap = max(overlap, len(running))
        await asyncio.sleep(0.02)
        seen.append((chat, n))
        running.discard(chat)

    def update(chat: int, n: int) -> Update:
        return Update.de_json(
            {
                "update_id": chat * 100 + n,
                "message": {
                    "message_id": n,
                    "date": 0,
                    "chat": {"id": chat, "type": "private"},
                    "text": str(n),
                },
            },
            None,
        )

    await asyncio.gather(
        *(
            processor.process_update(update(chat, n), work(chat, n))
            for n in range(5)
            for chat in (1, 2, 3)
        )
    )
    for chat in (1, 2, 3):
        assert [n for c, n in seen if c == chat] == [0, 1, 2, 3, 4]
    assert overlap == 3  # the three members were served side by side


async def test_stopping_does_not_wait_for_a_rate_limit(tmp_path: Path, router: Router) -> None:
    async with live_bot(tmp_path, router) as (app, fake):
        svc = svc_of(app)
        with session_scope(svc.engine) as session:
            for n in range(6):
                enqueue(session=session, chat_id=RIGHTS, text=f"等待 {n}")
        svc.delivery.wake()
        await until(lambda: len(fake.bot_messages(RIGHTS)) >= 2)
        started = time.monotonic()
    assert time.monotonic() - started < 2.0
    with Session(svc.engine) as session:
        left = session.exec(
            select(OutboxMessage).where(col(OutboxMessage.status) == OutboxStatus.PENDING)
        ).all()
    # What was not sent is due again for the next start, not leased away.
    assert len(left) == 6 - len(fake.bot_messages(RIGHTS))
    assert all(row.next_attempt_at <= utcnow() for row in left)


def _all_due_again(svc: Services, expected: int) -> None:
    with Session(svc.engine) as session:
        left = session.exec(
            select(OutboxMessage).where(col(OutboxMessage.status) == OutboxStatus.PENDING)
        ).all()
    assert len(left) == expected
    assert all(row.next_attempt_at <= utcnow() for row in left)


async def test_stopping_while_rows_are_leased_gives_them_back(
    tmp_path: Path, router: Router
) -> None:
    """The lease is taken in a database thread, which commits even when the bot stops
    meanwhile: what it leased is due again at the next start, not held for the lease."""
    async with live_bot(tmp_path, router, start=False) as (app, fake):
        svc = svc_of(app)
        delivery = svc.delivery
        await delivery.stop()
        leasing, go, leased = threading.Event(), threading.Event(), threading.Event()
        claim_due = delivery.postman.claim_due

        def held_claim(**kwargs: object) -> list[OutboxMessage]:
            leasing.set()
            go.wait(5)  # the thread leases only once the bot has begun to stop
            try:
                return claim_due(**kwargs)  # type: ignore[arg-type]
            finally:
                leased.set()

        delivery.postman.claim_due = held_claim  # type: ignore[method-assign]
        chats = (ORGANIZATION, DEMOCRATIC, RIGHTS, PUBLICITY)
        with session_scope(svc.engine) as session:
            for chat in chats:
                enqueue(session=session, chat_id=chat, text="待发")
        delivery.start(app.bot)
        await until(leasing.is_set)
        stopping = asyncio.create_task(delivery.stop())
        await asyncio.sleep(0)  # stop() has cancelled the worker while the thread waits
        go.set()
        await stopping
        await until(leased.is_set)
        assert not any(fake.bot_messages(chat) for chat in chats)
        _all_due_again(svc, len(chats))


async def test_stopping_before_a_send_began_gives_its_row_back(
    tmp_path: Path, router: Router
) -> None:
    """A send cancelled before its first step never runs its own handler."""
    async with live_bot(tmp_path, router, start=False) as (app, fake):
        svc = svc_of(app)
        delivery = svc.delivery
        await delivery.stop()
        chats = (ORGANIZATION, DEMOCRATIC, RIGHTS, PUBLICITY)
        with session_scope(svc.engine) as session:
            for chat in chats:
                enqueue(session=session, chat_id=chat, text="待发")
        delivery._stopping = False  # as the running worker: the sends are created …
        await delivery._start_sends(app.bot)  # … and none has begun
        assert len(delivery._sending) == len(chats)
        await delivery.stop()
        assert not any(fake.bot_messages(chat) for chat in chats)
        _all_due_again(svc, len(chats))


async def test_giving_back_keeps_a_retry_time_recorded_meanwhile(
    tmp_path: Path, router: Router
) -> None:
    """A 429 recorded as the send was cancelled set the row's next try: giving the row back
    does not make it due at once."""
    async with live_bot(tmp_path, router, start=False) as (app, _fake):
        svc = svc_of(app)
        await svc.delivery.stop()
        with session_scope(svc.engine) as session:
            enqueue(session=session, chat_id=RIGHTS, text="待发")
        postman = svc.delivery.postman
        (message,) = postman.claim_due(busy=(), room=1)
        later = utcnow() + timedelta(seconds=30)
        with session_scope(svc.engine) as session:
            stored = session.get(OutboxMessage, message.id)
            assert stored is not None
            stored.next_attempt_at = later  # as _retry records Telegram's retry_after
            session.add(stored)
        postman.release([message])
        with Session(svc.engine) as session:
            stored = session.get(OutboxMessage, message.id)
            assert stored is not None
            assert stored.next_attempt_at > utcnow() + timedelta(seconds=20)
