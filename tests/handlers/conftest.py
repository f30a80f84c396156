"""A whole bot against a fake Telegram: a member, a staffer, and the chats they see."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from telegram import Update

from bot.app import App, build_application, handle_now, startup
from bot.fake import FakeRequest, FakeTelegram, FakeUser
from bot.settings import Settings
from knowledge.router import Router
from storage.db import make_engine, session_scope
from storage.models import ALL_DEPARTMENTS, StaffRole
from storage.staff import add_staff
from tests.factories import TEST_KEY

TOKEN = "555000111:test-token"
GENERAL = -1001000000000
ORGANIZATION = -1001000000001
DEMOCRATIC = -1001000000002
RIGHTS = -1001000000003
PUBLICITY = -1001000000004
ADMIN = 900001


@dataclass
class Harness:
    app: App
    fake: FakeTelegram
    engine: Engine
    member: FakeUser = field(default_factory=lambda: FakeUser(id=700001, first_name="测试会员"))
    staffer: FakeUser = field(default_factory=lambda: FakeUser(id=800001, first_name="测试干事"))

    async def process(self, update: dict[str, Any]) -> None:
        await handle_now(self.app, Update.de_json(update, self.app.bot))

    async def say(self, text: str, user: FakeUser | None = None) -> dict[str, Any]:
        """The member writes; returns the bot's last message in the member's chat."""
        user = user or self.member
        await self.process(self.fake.user_message(user, text=text, enqueue=False))
        return self.last(user.id)

    async def press(self, label: str, user: FakeUser | None = None) -> dict[str, Any]:
        """Press the button with this label on the latest message that has one."""
        user = user or self.member
        for message in reversed(self.fake.bot_messages(user.id)):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label or button["text"].endswith(label):
                        await self.process(
                            self.fake.press_button(
                                user,
                                user.id,
                                message["message_id"],
                                button["callback_data"],
                                enqueue=False,
                            )
                        )
                        return self.last(user.id)
        raise AssertionError(f"no button {label!r}")

    async def press_on(
        self, chat_id: int, message_id: int, label: str, user: FakeUser | None = None
    ) -> None:
        """Press the button with this label (or its start) on a message in any chat."""
        message = self.fake.message(chat_id, message_id)
        assert message is not None, f"no message {message_id} in {chat_id}"
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if button["text"] == label or button["text"].startswith(label):
                    await self.process(
                        self.fake.press_button(
                            user or self.staffer,
                            chat_id,
                            message_id,
                            button["callback_data"],
                            enqueue=False,
                        )
                    )
                    return
        raise AssertionError(f"no button {label!r} on {message.get('text', '')[:80]!r}")

    def alerts(self) -> list[str]:
        """What the bot answered to button presses (alerts and toasts), in order."""
        return [answer.get("text", "") for answer in self.fake.callback_answers]

    async def staff_reply(
        self, chat_id: int, to_message_id: int, text: str, user: FakeUser | None = None
    ) -> dict[str, Any]:
        await self.process(
            self.fake.user_message(
                user or self.staffer,
                chat_id,
                text=text,
                reply_to_message_id=to_message_id,
                enqueue=False,
            )
        )
        return self.last(chat_id)

    def last(self, chat_id: int) -> dict[str, Any]:
        messages = self.fake.bot_messages(chat_id)
        assert messages, f"the bot sent nothing to {chat_id}"
        return messages[-1]

    def texts(self, chat_id: int) -> list[str]:
        return [m.get("text") or m.get("caption") or "" for m in self.fake.bot_messages(chat_id)]


def harness_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "token": TOKEN,
        "encryption_key": TEST_KEY,
        "api_base_url": "http://fake.invalid/bot",
        "database_url": f"sqlite:///{tmp_path / 'bot.db'}",
        "data_dir": tmp_path,
        "staff_chat_general": GENERAL,
        "staff_chat_organization": ORGANIZATION,
        "staff_chat_democratic_management": DEMOCRATIC,
        "staff_chat_rights": RIGHTS,
        "staff_chat_publicity": PUBLICITY,
        "admin_ids": (ADMIN,),
        # Telegram's flood limits are the pacer's tests' business (tests/bot/test_pacing.py).
        "send_rate_per_second": 0,
        # Scripted members type faster than people; flood control has its own tests.
        "flood_burst": 10_000,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def running(settings: Settings, engine: Engine, router: Router) -> AsyncIterator[Harness]:
    fake = FakeTelegram(token=TOKEN)
    for chat_id, name in settings.staff_chats().items():
        fake.register_chat(chat_id, type="supergroup", title=name)
    app = build_application(settings, request=FakeRequest(fake), router=router, engine=engine)
    harness = Harness(app, fake, engine)
    # The harness's staffer is on the roster, for every department.
    with session_scope(engine) as session:
        add_staff(
            session=session,
            telegram_id=harness.staffer.id,
            name="测试干事",
            department=ALL_DEPARTMENTS,
            role=StaffRole.HANDLER,
        )
    async with app:
        await startup(app, deliver_in_background=False)
        await app.start()  # tasks the handlers start are awaited, as in `union-bot run`
        try:
            yield harness
        finally:
            await app.stop()
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every test of the whole bot runs twice: on SQLite (the default, embedded) and on a real
    PostgreSQL server (production), started by the suite itself (tests/conftest.py)."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
async def harness(tmp_path: Path, router: Router, database_url: str) -> AsyncIterator[Harness]:
    settings = harness_settings(tmp_path, database_url=database_url)
    async with running(settings, make_engine(settings.database_url), router) as running_bot:
        yield running_bot


@pytest.fixture
async def pg_harness(tmp_path: Path, router: Router, postgres_url: str) -> AsyncIterator[Harness]:
    """The same bot on PostgreSQL, the production database."""
    settings = harness_settings(tmp_path, database_url=postgres_url)
    async with running(settings, make_engine(postgres_url), router) as running_bot:
        yield running_bot
