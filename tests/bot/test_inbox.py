"""Issue 11 §1: no acknowledged update is lost, and none is handled twice."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select
from telegram import Update
from telegram.error import TelegramError

from bot import texts
from bot.app import INBOX_KEY
from bot.fake import FakeTelegram, FakeUser
from bot.inbox import DatabaseAway, Inbox, StoringQueue
from knowledge.router import Router
from storage import inbox
from storage.cases import enqueue
from storage.db import DatabaseThreads, make_engine, session_scope
from storage.models import InboxUpdate, utcnow
from tests.bot.live import live_bot, svc_of, until
from tests.handlers.conftest import TOKEN, harness_settings

MEMBERS = [FakeUser(id=720000 + n, first_name=f"会员{n}") for n in range(5)]


def _rows(engine: object) -> list[InboxUpdate]:
    with Session(engine) as session:  # type: ignore[arg-type]
        return list(session.exec(select(InboxUpdate).order_by(col(InboxUpdate.update_id))).all())


async def test_an_update_is_stored_before_it_is_handled_and_marked_after(
    tmp_path: Path, router: Router
) -> None:
    async with live_bot(tmp_path, router) as (app, fake):
        update = Update.de_json(fake.user_message(MEMBERS[0], text="你好", enqueue=False), app.bot)
        await app.update_queue.put(update)
        stored = _rows(app.bot_data[INBOX_KEY].engine)
        assert [row.update_id for row in stored] == [update.update_id]
        assert stored[0].payload["message"]["text"] == "你好"
        await until(lambda: fake.bot_messages(MEMBERS[0].id))
        await until(lambda: _rows(app.bot_data[INBOX_KEY].engine)[0].handled_at is not None)


async def test_updates_left_by_a_crash_are_handled_at_start_up_in_order_once(
    tmp_path: Path, router: Router
) -> None:
    settings = harness_settings(tmp_path)
    engine = make_engine(settings.database_url)
    fake = FakeTelegram(token=TOKEN)
    for chat_id, name in settings.staff_chats().items():
        fake.register_chat(chat_id, type="supergroup", title=name)
    # The first run takes the updates off Telegram (acknowledging them) and dies unhandled.
    async with live_bot(tmp_path, router, fake=fake, engine=engine, start=False) as (app, _):
        for member in MEMBERS:
            for text in ("/apply", "你好"):
                update = fake.user_message(member, text=text, enqueue=False)
                await app.update_queue.put(Update.de_json(update, app.bot))
        # A stale claim, as if the dead process had begun one of them.
        first = _rows(engine)[0]
        instance = app.bot_data[INBOX_KEY].instance
        assert inbox.claim(engine, first.update_id, instance) is inbox.Claim.TAKEN
    assert all(fake.bot_messages(member.id) == [] for member in MEMBERS)
    assert len(_rows(engine)) == 10

    # The restart handles every one of them, in each member's order, once.
    async with live_bot(tmp_path, router, fake=fake, engine=engine) as (_app, _):
        await until(lambda: all(row.handled_at for row in _rows(engine)))
    for member in MEMBERS:
        texts = [m["text"] for m in fake.bot_messages(member.id)]
        assert len(texts) == 2, texts
        assert "在线" in texts[0] or "申请" in texts[0]  # /apply's menu first, then 你好


async def test_an_update_delivered_twice_is_handled_once(tmp_path: Path, router: Router) -> None:
    async with live_bot(tmp_path, router) as (app, fake):
        raw = fake.user_message(MEMBERS[1], text="会员卡怎么办理", enqueue=False)
        for _ in range(3):
            await app.update_queue.put(Update.de_json(raw, app.bot))
        await until(lambda: fake.bot_messages(MEMBERS[1].id))
        await until(lambda: all(row.handled_at for row in _rows(app.bot_data[INBOX_KEY].engine)))
        assert len(fake.bot_messages(MEMBERS[1].id)) == 1


async def test_an_update_handled_while_the_mark_failed_is_not_handled_again(
    tmp_path: Path, router: Router, monkeypatch: Any
) -> None:
    """The database went away after the handler's effects and replies, before the mark: the
    process remembers it as handled, marks it when the database is back, and neither the
    inbox job nor a redelivery handles it again."""
    failing = {"done": 1}
    real_done = inbox.done

    def flaky_done(engine: Any, *update_ids: int) -> None:
        if failing["done"] > 0:
            failing["done"] -= 1
            raise OperationalError("UPDATE", {}, Exception("server closed the connection"))
        real_done(engine, *update_ids)

    monkeypatch.setattr(inbox, "done", flaky_done)
    async with live_bot(tmp_path, router) as (app, fake):
        box: Inbox = app.bot_data[INBOX_KEY]
        raw = fake.user_message(MEMBERS[3], text="会员卡怎么办理", enqueue=False)
        await app.update_queue.put(Update.de_json(raw, app.bot))
        await until(lambda: fake.bot_messages(MEMBERS[3].id))
        await until(lambda: failing["done"] == 0 and not box._queued)
        assert _rows(box.engine)[0].handled_at is None  # not recorded yet
        assert await box.left_behind(app.bot) == []  # the job marks it instead of handling it
        assert _rows(box.engine)[0].handled_at is not None
        await app.update_queue.put(Update.de_json(raw, app.bot))  # Telegram, again
        nxt = fake.user_message(MEMBERS[3], text="你好", enqueue=False)
        await app.update_queue.put(Update.de_json(nxt, app.bot))
        await until(lambda: len(fake.bot_messages(MEMBERS[3].id)) >= 2)
        await until(lambda: all(row.handled_at for row in _rows(box.engine)))
        assert len(fake.bot_messages(MEMBERS[3].id)) == 2


async def test_an_unmarked_update_does_not_hold_up_the_members_next_one(
    tmp_path: Path, router: Router, monkeypatch: Any
) -> None:
    engine = make_engine(harness_settings(tmp_path).database_url)
    box = Inbox(engine, "a")
    fake = FakeTelegram(token=TOKEN)
    one = Update.de_json(fake.user_message(MEMBERS[4], text="一", enqueue=False), None)
    two = Update.de_json(fake.user_message(MEMBERS[4], text="二", enqueue=False), None)
    assert await box.keep(one) and await box.keep(two)
    assert await box.take(one)

    def away(engine: Any, update_id: int) -> None:
        raise OperationalError("UPDATE", {}, Exception("server closed the connection"))

    with monkeypatch.context() as patch:
        patch.setattr(inbox, "done", away)
        await box.finished(one)  # handled; the mark failed
    assert _rows(engine)[0].handled_at is None
    started = asyncio.get_running_loop().time()
    assert await box.take(two)  # marks the first on the way instead of waiting for it
    assert asyncio.get_running_loop().time() - started < 1
    assert _rows(engine)[0].handled_at is not None


async def test_another_instance_leaves_a_live_claim_and_takes_a_dead_ones(
    tmp_path: Path, router: Router
) -> None:
    engine = make_engine(harness_settings(tmp_path).database_url)
    inbox.store(engine, 1, {"update_id": 1}, 5)
    inbox.store(engine, 2, {"update_id": 2}, 6)
    inbox.store(engine, 3, {"update_id": 3}, 7, instance="a")  # stored by a, on a's queue
    assert inbox.claim(engine, 1, "a") is inbox.Claim.TAKEN
    assert inbox.claim(engine, 1, "b") is inbox.Claim.GONE  # a is at it
    assert inbox.claim(engine, 1, "a") is inbox.Claim.TAKEN  # a again, after its restart
    assert [row.update_id for row in inbox.unhandled(engine, "b")] == [2]
    assert [row.update_id for row in inbox.unhandled(engine, "a")] == [1, 2, 3]
    later = utcnow() + inbox.CLAIM + timedelta(seconds=1)
    assert inbox.claim(engine, 1, "b", now=later) is inbox.Claim.TAKEN  # a died: it ran out
    assert [row.update_id for row in inbox.unhandled(engine, "b")] == [1, 2]
    inbox.done(engine, 1)
    assert inbox.claim(engine, 1, "a", now=later + inbox.CLAIM) is inbox.Claim.GONE


async def test_one_chats_updates_are_claimed_in_order_across_instances(
    tmp_path: Path, router: Router
) -> None:
    engine = make_engine(harness_settings(tmp_path).database_url)
    inbox.store(engine, 10, {"update_id": 10}, 5, instance="a")
    inbox.store(engine, 11, {"update_id": 11}, 5, instance="b")
    inbox.store(engine, 12, {"update_id": 12}, 6, instance="b")
    # b received the member's second message while a still has the first.
    assert inbox.claim(engine, 11, "b") is inbox.Claim.WAIT
    assert inbox.claim(engine, 12, "b") is inbox.Claim.TAKEN  # another chat does not wait
    assert inbox.claim(engine, 10, "a") is inbox.Claim.TAKEN
    assert inbox.claim(engine, 11, "b") is inbox.Claim.WAIT  # the first is under way
    inbox.done(engine, 10)
    assert inbox.claim(engine, 11, "b") is inbox.Claim.TAKEN


async def test_a_polling_instance_takes_an_update_stored_in_its_turn_without_claiming_it(
    tmp_path: Path, router: Router, monkeypatch: Any
) -> None:
    """Polling fetches alone and in order: the store tells whether an earlier update of the
    chat is unhandled, and when none is, taking the update costs no second trip. Webhook
    instances, which may store concurrently and out of order, claim every update at its turn;
    so does a polling instance once the update waited longer than IN_TURN_FOR."""
    engine = make_engine(harness_settings(tmp_path).database_url)
    assert inbox.store_in_turn(engine, 20, {"update_id": 20}, 8, instance="a") is True
    assert inbox.store_in_turn(engine, 21, {"update_id": 21}, 8, instance="a") is False
    assert inbox.store_in_turn(engine, 20, {"update_id": 20}, 8, instance="b") is None
    assert inbox.claim(engine, 20, "b") is inbox.Claim.GONE  # held for a by its store
    claims: list[int] = []
    real_claim = inbox.claim

    def counted(engine_: Any, update_id: int, instance: str, **kwargs: Any) -> inbox.Claim:
        claims.append(update_id)
        return real_claim(engine_, update_id, instance, **kwargs)

    monkeypatch.setattr(inbox, "claim", counted)
    fake = FakeTelegram(token=TOKEN)

    def message(member: FakeUser) -> Update:
        return Update.de_json(fake.user_message(member, text="你好", enqueue=False), None)

    polling = Inbox(engine, "polling")
    polling.fetches_alone = True
    first, second = message(MEMBERS[4]), message(MEMBERS[4])
    assert await polling.keep(first) and await polling.keep(second)
    assert await polling.take(first) and claims == []  # in its turn at the store
    await polling.finished(first)
    assert await polling.take(second) and claims == [second.update_id]  # behind the first
    await polling.finished(second)
    late = message(MEMBERS[3])
    assert await polling.keep(late)
    polling.IN_TURN_FOR = 0.0  # it waited too long: claimed after all
    assert await polling.take(late) and claims[-1] == late.update_id
    await polling.finished(late)
    webhook = Inbox(engine, "webhook")
    alone = message(MEMBERS[2])
    assert await webhook.keep(alone) and await webhook.take(alone)
    assert claims[-1] == alone.update_id


async def test_marks_that_fall_due_while_one_is_written_are_written_together(
    tmp_path: Path, router: Router, monkeypatch: Any
) -> None:
    """The first mark goes alone; those finishing while it is written wait for it and then
    go together, in one statement; every finisher returns once its own mark is written."""
    engine = make_engine(harness_settings(tmp_path).database_url)
    written: list[tuple[int, ...]] = []
    first_started, release_first = threading.Event(), threading.Event()
    real_done = inbox.done

    def recorded(engine_: Any, *update_ids: int) -> None:
        if not written:
            first_started.set()
            release_first.wait(5)
        written.append(update_ids)
        real_done(engine_, *update_ids)

    monkeypatch.setattr(inbox, "done", recorded)
    fake = FakeTelegram(token=TOKEN)
    updates = [
        Update.de_json(fake.user_message(member, text="你好", enqueue=False), None)
        for member in MEMBERS
    ]
    box = Inbox(engine, "a")
    for update in updates:
        assert await box.keep(update) and await box.take(update)
    first = asyncio.ensure_future(box.finished(updates[0]))
    await asyncio.to_thread(first_started.wait, 5)
    rest = asyncio.ensure_future(asyncio.gather(*(box.finished(u) for u in updates[1:])))
    await asyncio.sleep(0.05)
    assert not rest.done()  # they wait for the write under way
    release_first.set()
    await asyncio.wait_for(asyncio.gather(first, rest), 5)
    assert written == [(updates[0].update_id,), tuple(u.update_id for u in updates[1:])]
    assert all(row.handled_at is not None for row in _rows(engine))


async def test_an_update_waiting_on_another_instance_goes_back_to_the_queue(
    tmp_path: Path, router: Router
) -> None:
    engine = make_engine(harness_settings(tmp_path).database_url)
    fake = FakeTelegram(token=TOKEN)
    first = Update.de_json(fake.user_message(MEMBERS[3], text="一", enqueue=False), None)
    second = Update.de_json(fake.user_message(MEMBERS[3], text="二", enqueue=False), None)
    a, b = Inbox(engine, "a"), Inbox(engine, "b")
    b.WAIT_LIMIT = 0.2
    requeued: list[int] = []

    async def requeue(update: Update) -> None:
        requeued.append(update.update_id)

    b.requeue = requeue
    assert await a.keep(first) and await b.keep(second)
    assert not await b.take(second)  # a has not handled the first yet
    assert requeued == [second.update_id]
    assert await a.take(first)
    await a.finished(first)
    assert await b.take(second)


async def test_while_the_database_is_away_nothing_is_acknowledged_and_the_member_is_told(
    tmp_path: Path, router: Router
) -> None:
    told: list[int] = []

    class Away(Inbox):
        async def keep(self, update: Update) -> bool:
            raise OperationalError("INSERT", {}, Exception("database is locked"))

    async def notice(update: Update) -> None:
        told.append(update.update_id)

    engine = make_engine(harness_settings(tmp_path).database_url)
    queue = StoringQueue(Away(engine, "test"), notice, retry_pause=0)
    fake = FakeTelegram(token=TOKEN)
    update = Update.de_json(fake.user_message(MEMBERS[2], text="你好", enqueue=False), None)
    try:
        await queue.put(update)
    except DatabaseAway as away:  # a TelegramError: the polling loop tries again, not ends
        assert isinstance(away, TelegramError) and isinstance(away.__cause__, OperationalError)
    else:
        raise AssertionError("the updater must see the failure, so as not to acknowledge")
    assert queue.empty()
    await until(lambda: told == [update.update_id])  # told in the background


async def test_every_member_of_a_fetched_batch_is_told_while_the_database_is_away(
    tmp_path: Path, router: Router, monkeypatch: Any
) -> None:
    """The updater stops at the first update of a batch that cannot be stored; the members of
    that one and the ones after it wait as long, and are told (once a minute each); an update
    stored before it is not waiting, and its member is not told."""
    async with live_bot(tmp_path, router, start=False) as (app, fake):
        for member in MEMBERS[:4]:
            fake.user_message(member, text="会员卡怎么办理")
        updates = await app.bot.get_updates(timeout=0)
        assert len(updates) == 4
        queue = app.update_queue
        assert isinstance(queue, StoringQueue)
        queue.retry_pause = 0
        await queue.put(updates[0])  # stored; then the database goes away
        real_keep = queue.inbox.keep

        async def away(update: Update) -> bool:
            if update.update_id == updates[0].update_id:
                return await real_keep(update)
            raise OperationalError("INSERT", {}, Exception("connection refused"))

        monkeypatch.setattr(queue.inbox, "keep", away)
        with pytest.raises(DatabaseAway):  # not stored: it must not be acknowledged
            await queue.put(updates[1])
        told = [m.id for m in MEMBERS[1:4]]
        await until(lambda: all(fake.bot_messages(chat) for chat in told))
        for chat in told:
            assert [m.get("text") for m in fake.bot_messages(chat)] == [texts.DATABASE_BUSY]
        assert fake.bot_messages(MEMBERS[0].id) == []
        with pytest.raises(DatabaseAway):  # fetched again a moment later: nobody told twice
            await queue.put(updates[1])
        await asyncio.sleep(0.1)
        assert all(len(fake.bot_messages(chat)) == 1 for chat in told)


async def test_the_delivery_worker_wakes_when_queued_messages_are_committed(
    tmp_path: Path, router: Router
) -> None:
    """Not after every update, and not at its next poll: when a transaction that queued a
    message commits, in whichever thread."""
    async with live_bot(tmp_path, router, delivery_poll_seconds=3600) as (app, fake):
        await asyncio.sleep(0.2)  # the worker waits now, for an hour unless woken
        engine = svc_of(app).engine

        def queue_one() -> None:
            with session_scope(engine) as session:
                enqueue(session=session, chat_id=MEMBERS[2].id, text="您的申请已受理。")

        fake.register_chat(MEMBERS[2].id, first_name="会员")
        await asyncio.to_thread(queue_one)
        await until(lambda: fake.bot_messages(MEMBERS[2].id))  # an hour before its poll
        assert fake.bot_messages(MEMBERS[2].id)[0]["text"] == "您的申请已受理。"


async def test_a_scheduled_job_runs_once_a_period_across_instances(
    tmp_path: Path, router: Router
) -> None:
    from types import SimpleNamespace

    from bot.app import _our_turn
    from bot.services import SERVICES_KEY

    engine = make_engine(harness_settings(tmp_path).database_url)

    db = DatabaseThreads(engine)

    def context(instance: str) -> Any:
        services = SimpleNamespace(engine=engine, db=db)
        return SimpleNamespace(
            bot_data={SERVICES_KEY: services, INBOX_KEY: Inbox(engine, instance)}
        )

    a, b = context("a"), context("b")
    assert await _our_turn(a, "digest", "%Y-%m-%d")
    assert not await _our_turn(b, "digest", "%Y-%m-%d")  # a sent today's digest
    assert not await _our_turn(a, "digest", "%Y-%m-%d")  # nor twice after a restart
    assert await _our_turn(b, "sweep", "%Y-%m-%d %H")  # another job is its own
    assert await _our_turn(a, "digest", "%Y-%m-%d %H:%M:%S.%f")  # another period
    db.close()


async def test_stopping_sets_waiting_updates_aside_for_the_next_start(
    tmp_path: Path, router: Router
) -> None:
    engine = make_engine(harness_settings(tmp_path).database_url)
    queue = StoringQueue(Inbox(engine, "test"))
    fake = FakeTelegram(token=TOKEN)
    for text in ("一", "二", "三"):
        update = Update.de_json(fake.user_message(MEMBERS[4], text=text, enqueue=False), None)
        await queue.put(update)
    stop = object()  # python-telegram-bot's stop signal
    await queue.put(stop)
    assert queue.qsize() == 1 and queue.get_nowait() is stop  # nothing left to handle now
    again = Inbox(engine, "test")  # the next start
    assert len(await again.left_behind(None)) == 3  # type: ignore[arg-type]


async def test_a_second_delivery_while_the_store_waits_shares_its_outcome(
    tmp_path: Path, router: Router
) -> None:
    """A webhook retried while the first store still waits (a slow database) is acknowledged
    only with it: when the store fails, both fail (500: Telegram tries again)."""
    import threading

    release = threading.Event()
    failing = {"now": True}

    class Slow(Inbox):
        def _store(self, update_id: int, payload: dict[str, Any], key: int | None) -> Any:
            release.wait(10)
            if failing["now"]:
                raise OperationalError("INSERT", {}, Exception("server closed the connection"))
            return super()._store(update_id, payload, key)

    engine = make_engine(harness_settings(tmp_path).database_url)
    box = Slow(engine, "a")
    fake = FakeTelegram(token=TOKEN)
    update = Update.de_json(fake.user_message(MEMBERS[0], text="你好", enqueue=False), None)
    first = asyncio.create_task(box.keep(update))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(box.keep(update))
    await asyncio.sleep(0.05)
    assert not second.done()  # not acknowledged while the first waits
    release.set()
    for task in (first, second):
        try:
            await task
        except OperationalError:
            continue
        raise AssertionError("a delivery was acknowledged though the update was not stored")
    failing["now"] = False
    release.set()
    first = asyncio.create_task(box.keep(update))
    second = asyncio.create_task(box.keep(update))
    assert (await first, await second) == (True, False)  # stored once, queued once
