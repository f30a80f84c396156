"""Issue 11 §1: members are answered at once while a staff chat works through its backlog;
members are served concurrently and each in order; the bot stops at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select
from telegram import Update

from bot.app import App, build_application, startup
from bot.fake import FakeRequest, FakeTelegram, FakeUser
from bot.pacing import Limits
from bot.processing import PerChatOrder
from bot.services import SERVICES_KEY, Services
from knowledge.router import Router
from storage.cases import enqueue
from storage.db import make_engine, session_scope
from storage.models import OutboxMessage, OutboxStatus, utcnow
from tests.handlers.conftest import RIGHTS, TOKEN, harness_settings


@asynccontextmanager
async def live_bot(
    tmp_path: Path, router: Router, **settings: Any
) -> AsyncIterator[tuple[App, FakeTelegram]]:
    """The bot as `union-bot run` has it: updates through the processor, the delivery worker
    in the background, Telegram's limits kept (a short group window for the test)."""
    values = harness_settings(tmp_path, send_rate_per_second=30, **settings)
    fake = FakeTelegram(token=TOKEN)
    for chat_id, name in values.staff_chats().items():
        fake.register_chat(chat_id, type="supergroup", title=name)
    app = build_application(
        values, request=FakeRequest(fake), router=router, engine=make_engine(values.database_url)
    )
    pacer = app.bot.rate_limiter
    assert pacer is not None
    pacer.limits = Limits(overall_per_second=30, group_per_minute=2, group_window=1.0)  # type: ignore[attr-defined]
    async with app:
        await startup(app)
        await app.start()
        try:
            yield app, fake
        finally:
            # As run_polling and run_webhook stop: the application, then post_stop.
            await app.stop()
            assert app.post_stop is not None
            await app.post_stop(app)


def _svc(app: App) -> Services:
    svc = app.bot_data[SERVICES_KEY]
    assert isinstance(svc, Services)
    return svc


async def _until(check: Any, timeout: float = 5.0) -> float:
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise AssertionError("timed out")
        await asyncio.sleep(0.01)
    return time.monotonic() - start


async def test_members_are_answered_while_a_staff_chat_works_through_its_backlog(
    tmp_path: Path, router: Router
) -> None:
    async with live_bot(tmp_path, router) as (app, fake):
        svc = _svc(app)
        with session_scope(svc.engine) as session:
            for n in range(8):  # eight cards owed to one group: four seconds at 2 a second
                enqueue(session=session, chat_id=RIGHTS, text=f"积压 {n}")
        svc.delivery.wake()
        members = [FakeUser(id=710000 + n, first_name=f"会员{n}") for n in range(10)]
        for member in members:
            await app.update_queue.put(
                Update.de_json(fake.user_message(member, text="你好", enqueue=False), app.bot)
            )
        waited = await _until(lambda: all(fake.bot_messages(m.id) for m in members))
        assert waited < 1.0, f"members waited {waited:.2f} s behind the staff chat"
        assert len(fake.bot_messages(RIGHTS)) <= 4  # the group is still paced
        await _until(lambda: len(fake.bot_messages(RIGHTS)) == 8, timeout=8)
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
        svc = _svc(app)
        with session_scope(svc.engine) as session:
            for n in range(6):
                enqueue(session=session, chat_id=RIGHTS, text=f"等待 {n}")
        svc.delivery.wake()
        await _until(lambda: len(fake.bot_messages(RIGHTS)) >= 2)
        started = time.monotonic()
    assert time.monotonic() - started < 2.0
    with Session(svc.engine) as session:
        left = session.exec(
            select(OutboxMessage).where(col(OutboxMessage.status) == OutboxStatus.PENDING)
        ).all()
    # What was not sent is due again for the next start, not leased away.
    assert len(left) == 6 - len(fake.bot_messages(RIGHTS))
    assert all(row.next_attempt_at <= utcnow() for row in left)
