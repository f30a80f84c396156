"""The one assembly point: settings in, a ready python-telegram-bot Application out."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from telegram import BotCommand, BotCommandScopeAllPrivateChats, Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes
from telegram.request import BaseRequest, HTTPXRequest

from bot import redaction, texts
from bot.applications import Applications
from bot.casework import Casework
from bot.delivery import Delivery
from bot.inbox import (
    BUSY_KEY,
    INBOX_KEY,
    BusyNotice,
    Inbox,
    StoringQueue,
    WatchedFetch,
    default_instance_name,
)
from bot.looplag import LoopLag
from bot.outbox import Postman
from bot.pacing import BACKGROUND, Limits, Pacer
from bot.processing import PerChatOrder
from bot.replies import Reply, inline_keyboard
from bot.retention import Periods, sweep_idle_cases
from bot.services import SERVICES_KEY, Services
from bot.settings import Settings
from bot.workdays import CHINA, WorkCalendar
from handlers import errors, forms, groups, member, staff, staff_commands
from knowledge.faq import load_faq
from knowledge.forms import load_forms
from knowledge.router import Router, build_router
from storage.cases import (
    enqueue,
    forget_idle_members,
    forget_misses,
    forget_pending_questions,
    purge_closed_cases,
)
from storage.db import DatabaseThreads, make_engine, session_scope
from storage.inbox import first_to_run, forget_handled, forget_runs
from storage.models import Attachment, utcnow

log = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]
SWEEP_SECONDS = 3600
INBOX_SECONDS = 30
LAG_KEY = "loop_lag"
# The updates the handlers use (polling and the webhook ask Telegram for these only): messages
# and button presses. Edited messages are not new questions.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    router: Router | None = None,
    engine: Engine | None = None,
) -> App:
    """The bot with all its handlers; `request` swaps Telegram for a fake (tests, chat)."""
    secrets = [settings.token.get_secret_value()]
    if settings.webhook_secret is not None:
        secrets.append(settings.webhook_secret.get_secret_value())
    redaction.install(secrets)  # from here on, no log line carries personal data or these
    settings.use_keys()  # personal data encrypted at rest (EncryptionKeyError: no key)
    limits = Limits(
        overall_per_second=settings.send_rate_per_second,
        private_burst=settings.private_burst,
        group_per_minute=settings.group_messages_per_minute,
    )
    engine = engine or make_engine(settings.database_url)
    db = DatabaseThreads(engine)
    inbox = Inbox(
        engine, settings.instance_name or default_instance_name(str(settings.data_dir)), db
    )
    processor = PerChatOrder(claims=inbox)
    builder = (
        ApplicationBuilder()
        .token(settings.token.get_secret_value())
        .base_url(settings.api_base_url)
        .base_file_url(settings.api_base_file_url)
        .rate_limiter(Pacer(limits))
        .concurrent_updates(processor)
        .update_queue(StoringQueue(inbox))
        .post_init(startup)
        .post_stop(_stop_delivery)
        .post_shutdown(_close_database)
    )
    if request is not None:
        builder = builder.request(request)
    # getUpdates as python-telegram-bot would make it (one connection), watched: the members of
    # a fetched batch that cannot be stored are all told to wait, not only the first.
    fetch = WatchedFetch(get_updates_request or request or HTTPXRequest(connection_pool_size=1))
    builder = builder.get_updates_request(fetch)
    app: App = builder.build()
    queue = app.update_queue
    if isinstance(queue, StoringQueue):
        queue.fetched = lambda: fetch.batch(app.bot)
        queue.unstored = BusyNotice(app.bot, texts.DATABASE_BUSY)
        app.bot_data[BUSY_KEY] = queue.unstored
        inbox.requeue = queue.put_stored
    router = router or build_router()
    application_forms = load_forms(duties=[duty.id for duty in router.catalogue])
    casework = Casework(
        settings=settings,
        catalogue=router.catalogue,
        forms=application_forms,
        calendar=WorkCalendar(),
    )
    postman = Postman(
        engine,
        retry_seconds=settings.outbox_retry_seconds,
        fallback_chat=settings.staff_chat_general,
        admin_ids=settings.admin_ids,
        render_card=casework.render_card,
        db=db,
    )
    delivery = Delivery(postman, poll_seconds=settings.delivery_poll_seconds)
    app.bot_data[INBOX_KEY] = inbox
    app.bot_data[SERVICES_KEY] = Services(
        settings=settings,
        catalogue=router.catalogue,
        router=router,
        engine=engine,
        db=db,
        postman=postman,
        delivery=delivery,
        applications=Applications(
            application_forms, router.catalogue, casework, Periods.of(settings)
        ),
        casework=casework,
        faq=load_faq(
            catalogue=router.catalogue,
            forms=application_forms,
            topics=[topic.topic for topic in router.lexicon.out_of_scope],
            normalizer=router.normalizer,
        ),
    )
    staff_chats = set(settings.staff_chats())
    # Order matters: staff chats first (replies, card buttons, staff commands; only the roster
    # acts there), then other groups (only commands there), then the member's private chat.
    # Errors go to one handler.
    staff.register(app, staff_chats)
    staff_commands.register(app, staff_chats)
    groups.register(app, staff_chats)
    forms.register(app)
    member.register(app)
    errors.register(app)
    return app


async def startup(app: App, *, deliver_in_background: bool = True) -> None:
    """post_init: warm the router, publish the command menu, start delivering the outbox
    (the tests and the terminal chat deliver in step instead, with `handle_now`)."""
    svc: Services = app.bot_data[SERVICES_KEY]
    svc.router.warm()
    commands = [BotCommand(name, description) for name, description in texts.COMMANDS.items()]
    await app.bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats())
    if deliver_in_background:
        svc.delivery.start(app.bot)
        lag = app.bot_data.setdefault(LAG_KEY, LoopLag())
        lag.start()
        # What a crash left stored and unhandled goes first, in order.
        await _queue_left_behind(app)
    if app.job_queue is not None:
        if deliver_in_background:
            app.job_queue.run_repeating(
                _inbox_job, interval=INBOX_SECONDS, first=INBOX_SECONDS, name="inbox"
            )
        app.job_queue.run_repeating(_sweep_job, interval=SWEEP_SECONDS, first=60, name="drafts")
        digest_at = svc.settings.digest_at.replace(tzinfo=CHINA)
        app.job_queue.run_daily(_digest_job, time=digest_at, name="digest")
        app.job_queue.run_repeating(_held_job, interval=SWEEP_SECONDS, first=SWEEP_SECONDS)
    log.info("union-bot ready as @%s", app.bot.username)


async def handle_now(app: App, update: Update) -> None:
    """Handle one update and send all it owes before returning: the terminal chat and the
    tests see each step's whole outcome at once."""
    svc: Services = app.bot_data[SERVICES_KEY]
    await app.process_update(update)
    await svc.delivery.settle(app.bot)


async def _queue_left_behind(app: App) -> int:
    inbox: Inbox = app.bot_data[INBOX_KEY]
    queue = app.update_queue
    left = await inbox.left_behind(app.bot)
    for update in left:
        if isinstance(queue, StoringQueue):
            await queue.put_stored(update)
        else:
            await queue.put(update)
    if left:
        log.info("handling %d updates left unhandled", len(left))
    return len(left)


async def _inbox_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Updates another instance took and never finished (it died) are handled here."""
    await _queue_left_behind(context.application)


async def _stop_delivery(app: App) -> None:
    """post_stop: sends waiting on a rate limit are given back, so the bot stops at once; what
    was handled while the database could not record it is recorded if it can be."""
    svc: Services = app.bot_data[SERVICES_KEY]
    await svc.delivery.stop()
    if (inbox := app.bot_data.get(INBOX_KEY)) is not None:
        await inbox.mark_unmarked()  # the database may be back by now
    if (lag := app.bot_data.get(LAG_KEY)) is not None:
        await lag.stop()


async def _close_database(app: App) -> None:
    """post_shutdown: the database threads finish what they have and end."""
    svc: Services = app.bot_data[SERVICES_KEY]
    await asyncio.to_thread(svc.db.close)


async def _our_turn(context: ContextTypes.DEFAULT_TYPE, job: str, period_format: str) -> bool:
    """Several instances on one database run each scheduled job once per period: the first
    to record the run does it (Beijing time names the period)."""
    svc: Services = context.bot_data[SERVICES_KEY]
    inbox: Inbox = context.bot_data[INBOX_KEY]
    period = utcnow().astimezone(CHINA).strftime(period_format)
    return await svc.db.call(first_to_run, svc.engine, job, period, inbox.instance)


async def _sweep_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await _our_turn(context, "sweep", "%Y-%m-%d %H"):
        return
    svc: Services = context.bot_data[SERVICES_KEY]
    await svc.db.call(sweep_drafts, svc)
    svc.delivery.wake()


async def _digest_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await _our_turn(context, "digest", "%Y-%m-%d"):
        return
    svc: Services = context.bot_data[SERVICES_KEY]
    await svc.db.call(send_digests, svc, utcnow())
    svc.delivery.wake()


async def _held_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await _our_turn(context, "held", "%Y-%m-%d %H"):
        return
    svc: Services = context.bot_data[SERVICES_KEY]
    await svc.db.call(send_held_digests, svc)
    svc.delivery.wake()


def send_digests(svc: Services, now: datetime) -> int:
    """The morning digest to every staff chat, on working days; how many went out."""
    if not svc.casework.calendar.is_workday(now.astimezone(CHINA).date()):
        return 0
    return _to_staff_chats(svc, lambda s, chat, name: svc.casework.digest(s, chat, name, now))


def send_held_digests(svc: Services) -> int:
    """Every hour: the new cases whose cards waited (a burst), listed once in their chat."""
    return _to_staff_chats(svc, svc.casework.held_digest)


def _to_staff_chats(svc: Services, make: Callable[[Session, int, str], Reply | None]) -> int:
    """Owe each staff chat what `make` says for it (nothing for None); how many were owed."""
    sent = 0
    for chat_id, name in svc.settings.staff_chats().items():
        with session_scope(svc.engine) as session:
            if (reply := make(session, chat_id, name)) is None:
                continue
            enqueue(
                session=session,
                chat_id=chat_id,
                text=reply.text,
                reply_markup=inline_keyboard(reply.buttons) if reply.buttons else None,
                priority=BACKGROUND,
            )
            sent += 1
    return sent


def sweep_drafts(svc: Services) -> tuple[int, int]:
    """The hourly sweep, by the keeping rules (bot.retention): remind of drafts about to
    expire and expire old ones; empty cases past their keeping time, warn of and close cases
    idle for it; forget old misses and members gone quiet; delete files nobody needs."""
    periods = svc.periods
    now = utcnow()
    with session_scope(svc.engine) as session:
        reminded, expired = svc.applications.sweep(
            session,
            now=now,
            keep=periods.draft,
            remind_before=periods.remind,
        )
    with session_scope(svc.engine) as session:
        purge_closed_cases(session=session, now=now, keep=periods.case)
    with session_scope(svc.engine) as session:
        sweep_idle_cases(session, now=now, periods=periods, casework=svc.casework)
    with session_scope(svc.engine) as session:
        forget_pending_questions(session=session, now=now, keep=periods.question)
        forget_idle_members(session=session, now=now, keep=periods.member)
    with session_scope(svc.engine) as session:
        purge_orphan_files(session, svc.files_dir)
    with session_scope(svc.engine) as session:
        forget_handled(session, now=now)
        forget_runs(session, now=now)
        forget_misses(session, now=now, keep=periods.miss)
    return reminded, expired


def purge_orphan_files(session: Session, files_dir: Path, *, grace: float = 3600.0) -> int:
    """Delete stored files no attachment refers to any more (discarded or expired drafts).

    Files younger than `grace` seconds stay: an upload writes its file before its row.
    """
    if not files_dir.is_dir():
        return 0
    referenced = set(session.exec(select(Attachment.path)).all())
    cutoff = time.time() - grace
    removed = 0
    for path in files_dir.glob("*/*"):
        relative = str(path.relative_to(files_dir))
        if relative not in referenced and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
