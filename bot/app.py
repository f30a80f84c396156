"""The one assembly point: settings in, a ready python-telegram-bot Application out."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.engine import Engine
from telegram import BotCommand, BotCommandScopeAllPrivateChats
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ContextTypes,
    TypeHandler,
)
from telegram.request import BaseRequest

from bot import texts
from bot.outbox import Postman
from bot.services import SERVICES_KEY, Services
from bot.settings import Settings
from handlers import errors, groups, member, staff
from knowledge.router import Router, build_router
from storage.db import make_engine

log = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]
DELIVERY_GROUP = 100


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    router: Router | None = None,
    engine: Engine | None = None,
) -> App:
    """The bot with all its handlers; `request` swaps Telegram for a fake (tests, chat)."""
    builder = (
        ApplicationBuilder()
        .token(settings.token.get_secret_value())
        .base_url(settings.api_base_url)
        .base_file_url(settings.api_base_file_url)
        .rate_limiter(AIORateLimiter(max_retries=2))
        .post_init(startup)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(get_updates_request or request)
    app: App = builder.build()
    router = router or build_router()
    engine = engine or make_engine(settings.database_url)
    app.bot_data[SERVICES_KEY] = Services(
        settings=settings,
        catalogue=router.catalogue,
        router=router,
        engine=engine,
        postman=Postman(engine, retry_seconds=settings.outbox_retry_seconds),
    )
    staff_chats = set(settings.staff_chats())
    # Order matters: staff chats first (only replies there count), then other groups (only
    # commands there), then the member's private chat. Errors go to one handler.
    staff.register(app, staff_chats)
    groups.register(app, staff_chats)
    member.register(app)
    errors.register(app)
    # After whatever handled the update (or failed to), send what it left in the outbox.
    app.add_handler(TypeHandler(object, _deliver), group=DELIVERY_GROUP)
    return app


async def startup(app: App) -> None:
    """post_init: warm the router, publish the command menu, start delivering the outbox."""
    svc: Services = app.bot_data[SERVICES_KEY]
    svc.router.warm()
    commands = [BotCommand(name, description) for name, description in texts.COMMANDS.items()]
    await app.bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats())
    if app.job_queue is not None:
        app.job_queue.run_repeating(
            _deliver_job, interval=svc.settings.outbox_retry_seconds, first=0, name="outbox"
        )
    log.info("union-bot ready as @%s", app.bot.username)


async def _deliver(_update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc: Services = context.bot_data[SERVICES_KEY]
    await svc.postman.flush(context.bot)


async def _deliver_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await _deliver(None, context)
