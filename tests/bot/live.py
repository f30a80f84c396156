"""The bot as `union-bot run` has it, for tests that need the real update path: updates
through the queue (stored in the inbox) and the processor, delivery in the background."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from bot.app import App, build_application, startup
from bot.fake import FakeRequest, FakeTelegram
from bot.pacing import Limits
from bot.services import SERVICES_KEY, Services
from knowledge.router import Router
from storage.db import make_engine
from tests.handlers.conftest import TOKEN, harness_settings


@asynccontextmanager
async def live_bot(
    tmp_path: Path,
    router: Router,
    *,
    fake: FakeTelegram | None = None,
    engine: Engine | None = None,
    start: bool = True,
    **settings: Any,
) -> AsyncIterator[tuple[App, FakeTelegram]]:
    """Telegram's limits are kept, with a short group window (two a second) for the tests.
    `start=False`: updates are stored and queued but never handled, as if the bot died."""
    values = harness_settings(tmp_path, send_rate_per_second=30, **settings)
    if fake is None:
        fake = FakeTelegram(token=TOKEN)
        for chat_id, name in values.staff_chats().items():
            fake.register_chat(chat_id, type="supergroup", title=name)
    app = build_application(
        values,
        request=FakeRequest(fake),
        router=router,
        engine=engine or make_engine(values.database_url),
    )
    pacer = app.bot.rate_limiter
    assert pacer is not None
    pacer.limits = Limits(overall_per_second=30, group_per_minute=2, group_window=1.0)  # type: ignore[attr-defined]
    async with app:
        await startup(app)
        if not start:
            try:
                yield app, fake
            finally:
                await svc_of(app).delivery.stop()
            return
        await app.start()
        try:
            yield app, fake
        finally:
            # As run_polling and run_webhook stop: the application, then post_stop.
            await app.stop()
            assert app.post_stop is not None
            await app.post_stop(app)


def svc_of(app: App) -> Services:
    svc = app.bot_data[SERVICES_KEY]
    assert isinstance(svc, Services)
    return svc


async def until(check: Callable[[], Any], timeout: float = 5.0) -> float:
    """Wait until check() holds; how long that took."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise AssertionError("timed out")
        await asyncio.sleep(0.01)
    return time.monotonic() - start
