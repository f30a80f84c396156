"""Issue 11 §2: `union-bot webhook`, and several instances on one PostgreSQL database."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, col, create_engine, select

from benchmarks.load import fake_telegram
from bot.fake import FakeTelegram, WebhookPusher
from storage.models import InboxUpdate
from tests.botprocess import BotProcess
from tests.pgserver import free_port
from tests.scripted import Driver, Member, check_cases

SECRET = "test-secret_0123456789"
HOOK = "https://bot.example.org/telegram-hook"


@pytest.fixture
def fake_server() -> Iterator[tuple[FakeTelegram, str]]:
    with fake_telegram(flood_limits=False) as served:
        yield served


def _webhook(work: Path, base_url: str, database_url: str, name: str) -> BotProcess:
    return BotProcess(
        "webhook",
        work,
        name=name,
        api_base_url=base_url,
        data_dir=work / "data",
        database_url=database_url,
        webhook_url=HOOK,
        webhook_secret=SECRET,
        webhook_port=free_port(),
        # Scripted members type faster than people.
        flood_burst=1000,
    )


def _target(bot: BotProcess) -> str:
    return f"http://127.0.0.1:{bot.settings['webhook_port']}/telegram-hook"


def _listening(bot: BotProcess) -> bool:
    """PTB sets the webhook before its server listens, so a test posting by hand waits for
    the port too (the pusher retries on its own)."""
    try:
        socket.create_connection(("127.0.0.1", bot.settings["webhook_port"]), timeout=0.2).close()
    except OSError:
        return False
    return True


async def _until(condition: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


async def test_the_webhook_asks_for_what_it_uses_and_refuses_requests_without_the_secret(
    tmp_path: Path, fake_server: tuple[FakeTelegram, str]
) -> None:
    fake, base_url = fake_server
    bot = _webhook(tmp_path, base_url, f"sqlite:///{tmp_path / 'bot.db'}", "webhook").start()
    try:
        await _until(lambda: fake.webhook_secret)
        await _until(lambda: _listening(bot))
        assert fake.webhook_secret == SECRET
        assert fake.webhook_allowed_updates == ["message", "callback_query"]
        member = {"id": 770001, "first_name": "会员"}
        update = fake.user_message(member, text="你好", enqueue=False)
        async with httpx.AsyncClient() as client:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                answer = await client.post(_target(bot), json=update, headers=headers)
                assert answer.status_code == 403
        await asyncio.sleep(0.5)
        assert fake.bot_messages(member["id"]) == []
        async with WebhookPusher(fake, [_target(bot)], secret=SECRET) as pusher:
            fake.user_message(member, text="会员服务卡怎么办理")
            await _until(lambda: fake.bot_messages(member["id"]))
            assert pusher.pushed.statuses and set(pusher.pushed.statuses.values()) == {200}
        assert "服务卡" in fake.bot_messages(member["id"])[0]["text"]
    finally:
        assert bot.stop() < 10


async def test_two_webhook_instances_on_one_postgresql_serve_one_bot(
    tmp_path: Path, fake_server: tuple[FakeTelegram, str], postgres_url: str
) -> None:
    """The scale-out test: updates spread across two instances, several at a time; none lost
    or handled twice, every case complete, each member's updates handled in order."""
    fake, base_url = fake_server
    bots = [
        _webhook(tmp_path / name, base_url, postgres_url, name).start()
        for name in ("first", "second")
    ]
    await _until(lambda: sum(name == "setWebhook" for name, _ in list(fake.calls)) == 2)
    members = [Member(n, {"id": 771000 + n, "first_name": f"会员{n}"}) for n in range(16)]
    try:
        async with WebhookPusher(fake, [_target(bot) for bot in bots], secret=SECRET) as pusher:
            await asyncio.gather(*(Driver(fake, m, (0.0, 0.1)).run(60.0) for m in members))
            # Then each member sends five messages at once: they may reach either instance.
            before = {member.id: fake.posted.get(member.id, 0) for member in members}
            for member in members:
                for n in range(5):
                    fake.user_message(member.user, text=f"第{n + 1}条：会员服务卡")
            await _until(lambda: pusher.idle)
            engine = create_engine(postgres_url)
            await _until(lambda: _all_handled(engine), 60)
    finally:
        stops = [bot.stop() for bot in bots]
    assert [m.error for m in members if m.error] == []
    assert all(m.case_number for m in members)
    assert check_cases(postgres_url, members) == (0, 0, 0)  # lost, duplicated, mixed
    with Session(engine) as session:
        rows = session.exec(select(InboxUpdate).order_by(col(InboxUpdate.update_id))).all()
    # Both instances took part; every update was handled once, each chat's in order.
    assert len({row.claimed_by for row in rows}) == 2
    assert len(set(pusher.pushed.targets.values())) == 2
    by_chat: dict[int, list[InboxUpdate]] = {}
    for row in rows:
        by_chat.setdefault(row.chat_key or 0, []).append(row)
    for chat_rows in by_chat.values():
        handled = [row.handled_at for row in chat_rows]
        assert all(at is not None for at in handled)
        assert handled == sorted(handled)  # type: ignore[type-var]
    for member in members:
        # One answer to each of the five: none handled twice.
        assert fake.posted[member.id] - before[member.id] == 5, member.number
    assert max(stops) < 10
    engine.dispose()


def _all_handled(engine: object) -> bool:
    with Session(engine) as session:  # type: ignore[arg-type]
        return not session.exec(
            select(InboxUpdate).where(col(InboxUpdate.handled_at).is_(None))
        ).first()
