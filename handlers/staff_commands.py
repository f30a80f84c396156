"""Staff commands in the staff chats, for people on the roster: /cases, /case, /search, /stats,
/export and /staff. Lists page with buttons; exports go to the requester's private chat."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence

from sqlmodel import Session, col, select
from telegram import (
    InputFile,
    Message,
    Update,
    User,
)
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot import reports, texts
from bot.cards import CB, Act, Refusal, local_minute
from bot.casework import Casework
from bot.replies import Button, Reply, callback_number, escape
from bot.roster import (
    RosterError,
    parse_department,
    parse_name,
    parse_role,
    roster_line,
    roster_text,
)
from bot.services import Context, Services, services
from handlers.common import answer_query, edit, send
from handlers.staff import anonymous, ask_to_start_privately, never_started
from storage.cases import record_audit
from storage.models import Case, StaffMember, StaffRole, utcnow
from storage.staff import add_staff, remove_staff, roster

CB_LIST = "sl"  # sl:<page>:<filter code>


def register(app: Application, staff_chats: set[int]) -> None:
    in_staff_chat = filters.Chat(chat_id=staff_chats) & filters.UpdateType.MESSAGE
    commands: dict[str, Callable[..., object]] = {
        "cases": cases_command,
        "case": case_command,
        "search": search_command,
        "stats": stats_command,
        "export": export_command,
        "staff": staff_command,
    }
    for name, callback in commands.items():
        app.add_handler(CommandHandler(name, callback, filters=in_staff_chat))  # type: ignore[arg-type]
    app.add_handler(CallbackQueryHandler(list_page, pattern=rf"^{CB_LIST}:"))


async def _staffer(update: Update, context: Context) -> tuple[Message, User, StaffMember] | None:
    """The roster entry of whoever sent the command, or None after telling them why not."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return None
    if anonymous(message):
        await message.reply_html(texts.STAFF_ANONYMOUS)
        return None
    try:
        staffer = await services(context).db.session(
            lambda s: services(context).casework.staffer(s, user.id)
        )
    except Refusal as refusal:
        await message.reply_html(refusal.text)
        return None
    return message, user, staffer


# ------------------------------------------------------------------ /cases and paging


async def cases_command(update: Update, context: Context) -> None:
    if (found := await _staffer(update, context)) is None:
        return
    message, _, staffer = found
    svc = services(context)
    try:
        wanted = reports.parse_filter(context.args or [], staffer, svc.casework)
    except reports.FilterError as error:
        await message.reply_html(str(error))
        return
    await send(message, await _page(svc, staffer, wanted, 1, " ".join(context.args or [])))


async def list_page(update: Update, context: Context) -> None:
    svc = services(context)
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    _, page_text, code = ((query.data or "") + "::").split(":", 2)
    code = code.rstrip(":")
    try:
        staffer = await svc.db.session(lambda s: svc.casework.staffer(s, user.id))
        wanted = reports.CaseFilter.from_code(code, svc.casework)
    except (Refusal, reports.FilterError) as error:
        await answer_query(query, error.text if isinstance(error, Refusal) else str(error))
        return
    page = callback_number(page_text) or 1
    await answer_query(query)
    await edit(query, await _page(svc, staffer, wanted, page, texts.CASES_FILTER_DEFAULT))


async def _page(
    svc: Services, staffer: StaffMember, wanted: reports.CaseFilter, page: int, said: str
) -> Reply:
    casework = svc.casework
    found = await svc.db.session(
        lambda session: reports.find_cases(session, wanted, staffer, casework, utcnow())
    )
    label = escape(said) or texts.CASES_FILTER_DEFAULT
    if not found:
        return Reply(texts.CASES_NONE.format(filter=label))
    pages = (len(found) + reports.PAGE - 1) // reports.PAGE
    page = min(max(page, 1), pages)
    shown = found[(page - 1) * reports.PAGE : page * reports.PAGE]
    rows: list[tuple[Button, ...]] = [
        (Button(reports.case_label(case, casework), f"{CB}:{case.id}:{Act.OPEN.value}"),)
        for case in shown
    ]
    code = wanted.code(casework)
    paging = []
    if page > 1:
        paging.append(Button(texts.BUTTON_PREVIOUS_PAGE, f"{CB_LIST}:{page - 1}:{code}"))
    if page < pages:
        paging.append(Button(texts.BUTTON_NEXT_PAGE, f"{CB_LIST}:{page + 1}:{code}"))
    if paging:
        rows.append(tuple(paging))
    text = texts.CASES_HEAD.format(filter=label, count=len(found), page=page, pages=pages)
    return Reply(text, tuple(rows))


# ------------------------------------------------------------------ /case and /search


async def case_command(update: Update, context: Context) -> None:
    if (found := await _staffer(update, context)) is None:
        return
    message, user, _ = found
    svc = services(context)
    number = " ".join(context.args or []).strip().upper()
    if not number:
        await message.reply_html(texts.CASE_USAGE)
        return

    def work(session: Session) -> str | None:
        case = session.exec(select(Case).where(Case.number == number)).first()
        if case is None:
            return texts.CASE_NOT_FOUND.format(number=escape(number))
        try:
            svc.casework.show(session, case, message.chat_id, user.id)
        except Refusal as refusal:
            return refusal.text
        return None

    if (problem := await svc.db.session(work)) is not None:
        await message.reply_html(problem)


async def search_command(update: Update, context: Context) -> None:
    if (found := await _staffer(update, context)) is None:
        return
    message, _, staffer = found
    svc = services(context)
    text = " ".join(context.args or []).strip()
    if not text:
        await message.reply_html(texts.SEARCH_USAGE)
        return
    hits = await svc.db.session(lambda session: reports.search(session, text, staffer))
    if not hits:
        await message.reply_html(texts.SEARCH_NONE.format(text=escape(text)))
        return
    rows = tuple(
        (Button(reports.case_label(case, svc.casework), f"{CB}:{case.id}:{Act.OPEN.value}"),)
        for case in hits
    )
    await send(message, Reply(texts.SEARCH_HEAD.format(text=escape(text), count=len(hits)), rows))


# ------------------------------------------------------------------ /stats


async def stats_command(update: Update, context: Context) -> None:
    if (found := await _staffer(update, context)) is None:
        return
    message, _, staffer = found
    if not staffer.role.at_least(StaffRole.LEAD):
        await message.reply_html(texts.STAFF_LEAD_ONLY)
        return
    svc = services(context)
    now = utcnow()
    try:
        start, end, label = reports.parse_period(context.args or [], now)
    except reports.FilterError as error:
        await message.reply_html(str(error))
        return
    stats, cases = await svc.db.session(
        lambda session: reports.collect_stats(session, svc.casework, staffer, start, end, now)
    )
    await message.reply_html(reports.stats_text(stats, label))
    # Drawing takes a while: off the event loop, like the database work.
    title = texts.CHART_TITLE.format(label=label)
    chart = await asyncio.to_thread(reports.weekly_chart, cases, start, end, title)
    if chart is None:
        await message.reply_html(texts.STATS_NO_FONT)
        return
    await message.reply_photo(InputFile(chart, filename="stats.png"))


# ------------------------------------------------------------------ /export


async def export_command(update: Update, context: Context) -> None:
    """/export [全量] [filters]: an .xlsx and a .csv to the requester's private chat; personal
    data masked unless an admin asks for it in full. Each exported case records it."""
    if (found := await _staffer(update, context)) is None:
        return
    message, user, staffer = found
    svc = services(context)
    words = list(context.args or [])
    full = any(word in texts.EXPORT_FULL_WORDS for word in words)
    words = [word for word in words if word not in texts.EXPORT_FULL_WORDS]
    if full and not staffer.role.at_least(StaffRole.ADMIN):
        await message.reply_html(texts.STAFF_ADMIN_ONLY)
        return
    try:
        wanted = reports.parse_filter(words, staffer, svc.casework)
    except reports.FilterError as error:
        await message.reply_html(str(error))
        return
    label = escape(" ".join(words)) or texts.CASES_FILTER_DEFAULT
    now = utcnow()

    def gather(session: Session) -> tuple[list[Case], list[str], list[list[str]]]:
        cases = reports.find_cases(session, wanted, staffer, svc.casework, now)
        header, rows = reports.export_rows(session, cases, svc.casework, full=full, now=now)
        return cases, header, rows

    cases, header, rows = await svc.db.session(gather)
    if not cases:
        await message.reply_html(texts.EXPORT_NONE.format(filter=label))
        return
    masked = texts.EXPORT_FULL if full else texts.EXPORT_MASKED
    caption = texts.EXPORT_CAPTION.format(
        count=len(cases), filter=label, masked=masked, when=local_minute(now)
    )
    stamp = now.strftime("%Y%m%d-%H%M")
    files = (
        (
            await asyncio.to_thread(reports.to_xlsx, header, rows, texts.EXPORT_TITLE),
            f"cases-{stamp}.xlsx",
        ),
        (reports.to_csv(header, rows), f"cases-{stamp}.csv"),
    )
    for index, (content, name) in enumerate(files):
        try:
            await context.bot.send_document(
                user.id, InputFile(content, filename=name), caption=caption
            )
        except (Forbidden, BadRequest) as error:
            if not never_started(error):
                raise
            await ask_to_start_privately(context, message.chat_id, user)
            return
        if index == 0:  # the data has left: on the record, whatever happens next
            await _log_export(svc, [c.id for c in cases if c.id is not None], staffer, full)
    await message.reply_html(texts.EXPORT_SENT.format(count=len(cases), masked=masked))


async def _log_export(
    svc: Services, case_ids: Sequence[int], staffer: StaffMember, full: bool
) -> None:
    def log(session: Session) -> None:
        for case in session.exec(select(Case).where(col(Case.id).in_(case_ids))).all():
            record_audit(
                session=session,
                case=case,
                actor_telegram_id=staffer.telegram_id,
                action="exported",
                detail={"by": staffer.name, "full": full},
            )

    await svc.db.session(log)


# ------------------------------------------------------------------ /staff


async def staff_command(update: Update, context: Context) -> None:
    """Admins manage the roster: /staff, /staff add ID 姓名 部门 角色, /staff remove ID."""
    if (found := await _staffer(update, context)) is None:
        return
    message, _, staffer = found
    if not staffer.role.at_least(StaffRole.ADMIN):
        await message.reply_html(texts.STAFF_ADMIN_ONLY)
        return
    svc = services(context)
    args = list(context.args or [])
    answer = await svc.db.session(lambda session: _roster_change(session, svc.casework, args))
    await message.reply_text(answer)


def _roster_change(session: Session, casework: Casework, args: list[str]) -> str:
    if not args:
        return roster_text(roster(session=session))
    action, rest = args[0].lower(), args[1:]
    telegram_id = int(rest[0]) if rest and re.fullmatch(r"[0-9]{1,15}", rest[0]) else None
    if action in ("remove", "删除", "移出") and telegram_id is not None and len(rest) == 1:
        others = [s for s in roster(session=session) if s.telegram_id != telegram_id]
        if not any(s.role is StaffRole.ADMIN for s in others):
            return texts.ROSTER_LAST_ADMIN
        removed = remove_staff(session=session, telegram_id=telegram_id)
        if removed is None:
            return texts.ROSTER_NOT_FOUND.format(telegram_id=telegram_id)
        return texts.ROSTER_REMOVED.format(line=roster_line(removed))
    if action in ("add", "添加", "加入") and telegram_id is not None and len(rest) in (3, 4):
        try:
            name = parse_name(rest[1])
            department = parse_department(rest[2], casework.departments)
            role = parse_role(rest[3] if len(rest) == 4 else "handler")
        except RosterError as error:
            return str(error)
        staffer, created = add_staff(
            session=session, telegram_id=telegram_id, name=name, department=department, role=role
        )
        done = texts.ROSTER_ADDED if created else texts.ROSTER_UPDATED
        return done.format(line=roster_line(staffer))
    return texts.ROSTER_USAGE
