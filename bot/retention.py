"""How long personal data is kept, and the sweeps that make it so (issue 12 §3).

Every period comes from the settings, and the notices members read are written from the same
values, so what a notice says is what the sweep does:
- a case's content goes `case` after it was closed;
- a case with nothing recorded on it for `case` is closed as expired and emptied, its staff chat
  warned `warn` before;
- an unsubmitted draft goes `draft` after its last answer (bot.applications);
- an unanswered question (a miss) goes after `miss`;
- a member's last question goes after `question`;
- a member row with no case content, no draft under way and no saved profile goes `member`
  after the member was last seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from sqlmodel import Session, col, select

from bot import texts
from bot.cards import status_label
from bot.casework import Casework
from bot.settings import Settings
from bot.workdays import CHINA
from storage.cases import idle_open_cases, purge_case, record_event
from storage.models import Actor, Case, CaseEvent, CaseStatus

# A member's last question is kept this long, for 都不是 and 转人工 to carry it to staff.
PENDING_QUESTION_KEPT = timedelta(days=1)
WARNED = "expiry_warned"
EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Periods:
    draft: timedelta
    case: timedelta
    warn: timedelta
    miss: timedelta
    member: timedelta
    remind: timedelta = timedelta(hours=24)  # a draft's reminder, before it goes
    question: timedelta = PENDING_QUESTION_KEPT

    @classmethod
    def of(cls, settings: Settings) -> Periods:
        return cls(
            draft=timedelta(days=settings.draft_keep_days),
            case=timedelta(days=settings.case_keep_days),
            warn=timedelta(days=settings.case_warn_days),
            miss=timedelta(days=settings.miss_keep_days),
            member=timedelta(days=settings.member_keep_days),
            remind=timedelta(hours=settings.draft_remind_before_hours),
        )

    def words(self) -> dict[str, str]:
        """Each period as the notices say it."""
        return {
            "draft": say(self.draft),
            "case": say(self.case),
            "warn": say(self.warn),
            "miss": say(self.miss),
            "member": say(self.member),
            "question": say(self.question),
            # Said only when there is a reminder (0: none).
            "remind": texts.DRAFT_REMINDED.format(before=say(self.remind)) if self.remind else "",
        }

    def form_retention(self, extra: str = "") -> str:
        """The retention line of a form's privacy notice: the rules, then the form's own."""
        words = self.words()
        return texts.FORM_RETENTION.format(case=words["case"], draft=words["draft"]) + extra

    def notice(self) -> str:
        """/privacy: what is kept, for how long, and the member's rights."""
        return texts.PRIVACY.format(**self.words())


def say(period: timedelta) -> str:
    """3年, 90天, 7天, 12小时: whole years where it is some, else whole days, else hours."""
    days = period.total_seconds() / 86400
    if days >= 365 and days % 365 == 0:
        return texts.PERIOD_YEARS.format(n=f"{days / 365:g}")
    if days >= 1 and days == int(days):
        return texts.PERIOD_DAYS.format(n=int(days))
    return texts.PERIOD_HOURS.format(n=f"{round(period.total_seconds() / 3600, 1):g}")


def sweep_idle_cases(
    session: Session, *, now: datetime, periods: Periods, casework: Casework
) -> tuple[int, int]:
    """Warn of cases idle for nearly the keeping time, close and empty those idle for all of
    it. Anything staff record on a case (a note will do) starts its time again. (warned,
    expired)"""
    warned = expired = 0
    for case in idle_open_cases(session=session, since=now - periods.case + periods.warn):
        warned_at = _warned_at(session, case)
        if warned_at is None:
            # Recorded without touching updated_at: the warning is not activity.
            session.add(CaseEvent(case_id=case.id or 0, actor=Actor.BOT, action=WARNED, at=now))
            # Never closed without a full warning, even after downtime or a shorter setting.
            closes_at = max(case.updated_at + periods.case, now + periods.warn)
            warning = texts.STAFF_EXPIRY_WARNING.format(
                number=case.number,
                status=status_label(case),
                idle=texts.PERIOD_DAYS.format(n=(now - case.updated_at).days),
                date=closes_at.astimezone(CHINA).strftime("%Y-%m-%d"),
            )
            casework.to_staff_thread(session, case, warning)
            warned += 1
        elif case.updated_at + periods.case <= now and warned_at + periods.warn <= now:
            _expire(session, case, now=now, periods=periods, casework=casework)
            expired += 1
    return warned, expired


def _warned_at(session: Session, case: Case) -> datetime | None:
    """When staff were warned of this case's closing since its last activity, if they were."""
    return session.exec(
        select(CaseEvent.at)
        .where(CaseEvent.case_id == case.id)
        .where(CaseEvent.action == WARNED)
        .where(col(CaseEvent.at) >= case.updated_at)
        .order_by(col(CaseEvent.at))
    ).first()


def _expire(
    session: Session, case: Case, *, now: datetime, periods: Periods, casework: Casework
) -> None:
    idle = say(periods.case)
    case.status, case.closed_at = CaseStatus.EXPIRED, now
    record_event(session=session, case=case, actor=Actor.BOT, action=EXPIRED)
    purge_case(session=session, case=case)
    casework.update_card(session, case)
    casework.to_staff_thread(
        session, case, texts.STAFF_EXPIRED.format(number=case.number, idle=idle)
    )
    kind = escape(texts.CASE_KIND[case.kind.value])
    casework.tell_member(
        session, case, texts.MEMBER_EXPIRED.format(kind=kind, number=case.number, idle=idle)
    )
