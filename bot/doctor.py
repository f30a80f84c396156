"""`union-bot doctor`: what an operator should fix before (or while) the bot serves members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from bot import texts
from bot.reports import cjk_font
from bot.settings import DEPARTMENT_SETTINGS, Settings, SettingsError, StorageSettings
from bot.workdays import CHINA, WorkCalendar
from knowledge.catalogue import load_catalogue
from storage.models import ALL_DEPARTMENTS, StaffRole

if TYPE_CHECKING:
    from telegram import Bot


class Level(StrEnum):
    OK = "✓"
    NOTE = "!"  # works, but worth knowing
    PROBLEM = "✗"  # to fix


@dataclass(frozen=True)
class Finding:
    level: Level
    text: str


def examine(
    storage: StorageSettings, settings: Settings | SettingsError, now: datetime
) -> list[Finding]:
    findings: list[Finding] = []
    if isinstance(settings, SettingsError):
        findings.append(Finding(Level.PROBLEM, texts.DOCTOR_SETTINGS_BAD.format(error=settings)))
    else:
        findings.append(Finding(Level.OK, texts.DOCTOR_SETTINGS_OK))
        for department, name in DEPARTMENT_SETTINGS.items():
            if getattr(settings, name) is None:
                findings.append(
                    Finding(
                        Level.NOTE, texts.DOCTOR_NO_DEPARTMENT_CHAT.format(department=department)
                    )
                )
    findings += _database(storage)
    findings.append(_keys(storage))
    this_year = now.astimezone(CHINA).year
    for year in (this_year, this_year + 1):
        if WorkCalendar.covers(year):
            findings.append(Finding(Level.OK, texts.DOCTOR_CALENDAR_OK.format(year=year)))
        else:
            # Deadlines are still counted (weekends only): worth knowing, not broken.
            findings.append(Finding(Level.NOTE, texts.DOCTOR_CALENDAR_MISSING.format(year=year)))
    family = cjk_font()
    findings.append(
        Finding(Level.OK, texts.DOCTOR_FONT_OK.format(font=family))
        if family
        else Finding(Level.PROBLEM, texts.STATS_NO_FONT)
    )
    return findings


def _keys(storage: StorageSettings) -> Finding:
    """The encryption key: there, private, well-formed, and able to read what is stored."""
    from storage import crypto
    from storage.db import make_engine
    from storage.models import Case, Draft, Member, Miss

    try:
        keys = storage.encryption_keys()
        crypto.configure(keys)
        engine = make_engine(storage.database_url, migrate=False)
        from sqlmodel import Session, select

        with Session(engine) as session:  # one value of each kind, if there is one
            for table in (Case, Draft, Member, Miss):
                session.exec(select(table).limit(1)).all()
    except crypto.EncryptionKeyError as error:
        return Finding(Level.PROBLEM, texts.DOCTOR_KEY_BAD.format(error=error))
    except SQLAlchemyError:
        pass  # the database's own finding says what is wrong with it
    return Finding(Level.OK, texts.DOCTOR_KEY_OK.format(count=len(keys)))


def _database(storage: StorageSettings) -> list[Finding]:
    from storage.db import make_engine, session_scope
    from storage.migrate import current, revisions
    from storage.staff import roster

    try:
        engine = make_engine(storage.database_url, migrate=False)
        revision = current(engine)
    except SQLAlchemyError as error:
        return [
            Finding(Level.PROBLEM, texts.DOCTOR_DATABASE_BAD.format(error=type(error).__name__))
        ]
    if revision is None:
        return [Finding(Level.PROBLEM, texts.DOCTOR_DATABASE_EMPTY)]
    known = revisions()
    head = known[-1]
    if revision == head:
        findings = [Finding(Level.OK, texts.DOCTOR_MIGRATION_OK.format(revision=revision))]
    elif revision in known:
        behind = texts.DOCTOR_MIGRATION_BEHIND.format(revision=revision, head=head)
        findings = [Finding(Level.PROBLEM, behind)]
    else:
        newer = texts.DOCTOR_MIGRATION_UNKNOWN.format(revision=revision, head=head)
        findings = [Finding(Level.PROBLEM, newer)]
    try:
        with session_scope(engine) as session:
            staff = roster(session=session)
    except SQLAlchemyError as error:
        if revision != head:
            return findings  # an older schema may lack the roster; the upgrade comes first
        bad = texts.DOCTOR_DATABASE_BAD.format(error=type(error).__name__)
        return [*findings, Finding(Level.PROBLEM, bad)]
    admins = [s for s in staff if s.role is StaffRole.ADMIN]
    findings.append(
        Finding(
            Level.OK if admins else Level.PROBLEM,
            texts.DOCTOR_ROSTER.format(count=len(staff), admins=len(admins)),
        )
    )
    for department in load_catalogue().departments():
        if not any(s.department in (department, ALL_DEPARTMENTS) for s in staff):
            findings.append(
                Finding(Level.PROBLEM, texts.DOCTOR_NOBODY.format(department=department))
            )
    return findings


async def examine_telegram(settings: Settings) -> list[Finding]:
    """Ask the Bot API server about the token (getMe), then about every staff chat."""
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError

    bot = Bot(
        settings.token.get_secret_value(),
        base_url=settings.api_base_url,
        base_file_url=settings.api_base_file_url,
    )
    try:
        async with bot:  # initialize() calls getMe
            me = bot.bot
            token = texts.DOCTOR_TOKEN_OK.format(username=me.username, name=me.full_name)
            findings = [Finding(Level.OK, token)]
            for chat_id, (chat, setting) in _staff_chat_settings(settings).items():
                findings.append(await _staff_chat(bot, chat_id, chat, setting))
    except InvalidToken:  # its message carries the token: never shown
        return [Finding(Level.PROBLEM, texts.DOCTOR_TOKEN_REFUSED)]
    except NetworkError as error:  # TimedOut included
        unreachable = texts.DOCTOR_API_UNREACHABLE.format(
            url=settings.api_base_url, error=type(error).__name__
        )
        return [Finding(Level.PROBLEM, unreachable)]
    return findings


def _staff_chat_settings(settings: Settings) -> dict[int, tuple[str, str]]:
    """Each staff chat: the name staff know it by, and the setting(s) holding its id."""
    names = {"staff_chat_general": settings.staff_chat_general}
    names.update({name: getattr(settings, name) for name in DEPARTMENT_SETTINGS.values()})
    chats: dict[int, tuple[str, str]] = {}
    for chat_id, chat in settings.staff_chats().items():
        holding = [f"UNIONBOT_{name.upper()}" for name, value in names.items() if value == chat_id]
        chats[chat_id] = (chat, "、".join(holding))
    return chats


async def _staff_chat(bot: Bot, chat_id: int, chat: str, setting: str) -> Finding:
    """Whether the bot can post case cards in this staff chat (getChat, getChatMember)."""
    from telegram import ChatMemberRestricted
    from telegram.constants import ChatMemberStatus
    from telegram.error import BadRequest, ChatMigrated, Forbidden, TelegramError

    named = {"chat": chat, "setting": setting, "chat_id": chat_id}
    try:
        found = await bot.get_chat(chat_id)
        member = await bot.get_chat_member(chat_id, bot.id)
    except ChatMigrated as migrated:
        new_id = migrated.new_chat_id
        return Finding(Level.PROBLEM, texts.DOCTOR_CHAT_MIGRATED.format(**named, new_id=new_id))
    except Forbidden as error:  # "bot was kicked from the supergroup chat", "bot is not a …"
        kicked = "kicked" in error.message.lower()
        gone = texts.DOCTOR_CHAT_BANNED if kicked else texts.DOCTOR_CHAT_REMOVED
        return Finding(Level.PROBLEM, gone.format(**named))
    except BadRequest as error:
        if "chat not found" in error.message.lower():
            return Finding(Level.PROBLEM, texts.DOCTOR_CHAT_NOT_FOUND.format(**named))
        return Finding(Level.PROBLEM, texts.DOCTOR_CHAT_FAILED.format(**named, error=error))
    except TelegramError as error:
        failed = texts.DOCTOR_CHAT_FAILED.format(**named, error=type(error).__name__)
        return Finding(Level.PROBLEM, failed)
    if member.status == ChatMemberStatus.BANNED:
        return Finding(Level.PROBLEM, texts.DOCTOR_CHAT_BANNED.format(**named))
    if member.status == ChatMemberStatus.LEFT:
        return Finding(Level.PROBLEM, texts.DOCTOR_CHAT_REMOVED.format(**named))
    if isinstance(member, ChatMemberRestricted):
        if not member.is_member:
            return Finding(Level.PROBLEM, texts.DOCTOR_CHAT_REMOVED.format(**named))
        if not member.can_send_messages:
            return Finding(Level.PROBLEM, texts.DOCTOR_CHAT_MUTED.format(**named))
        return Finding(Level.NOTE, texts.DOCTOR_CHAT_RESTRICTED.format(**named))
    status = texts.DOCTOR_MEMBER_STATUS.get(str(member.status), str(member.status))
    title = found.title or found.full_name or str(chat_id)
    return Finding(Level.OK, texts.DOCTOR_CHAT_OK.format(**named, title=title, status=status))
