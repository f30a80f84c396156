"""`union-bot doctor`: what an operator should fix before (or while) the bot serves members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.exc import SQLAlchemyError

from bot import texts
from bot.reports import cjk_font
from bot.settings import DEPARTMENT_SETTINGS, Settings, SettingsError, StorageSettings
from bot.workdays import CHINA, WorkCalendar
from knowledge.catalogue import load_catalogue
from storage.models import ALL_DEPARTMENTS, StaffRole


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


def _database(storage: StorageSettings) -> list[Finding]:
    from storage.db import make_engine, session_scope
    from storage.migrate import current
    from storage.staff import roster

    try:
        engine = make_engine(storage.database_url, migrate=False)
        revision = current(engine)
        with session_scope(engine) as session:
            staff = roster(session=session) if revision else []
    except SQLAlchemyError as error:
        return [
            Finding(Level.PROBLEM, texts.DOCTOR_DATABASE_BAD.format(error=type(error).__name__))
        ]
    if revision is None:
        return [Finding(Level.PROBLEM, texts.DOCTOR_DATABASE_EMPTY)]
    findings = [Finding(Level.OK, texts.DOCTOR_DATABASE.format(revision=revision))]
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
