"""What staff look up: case lists with filters, search, statistics with a chart, and exports.

No Telegram here; the staff command handlers send what these functions return.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from bot import texts
from bot.cards import local_date, status_label
from bot.casework import Casework
from bot.replies import escape
from bot.workdays import CHINA
from knowledge.forms import display, mask_numbers
from storage.models import (
    ALL_DEPARTMENTS,
    FINAL_STATUSES,
    Case,
    CaseKind,
    CaseStatus,
    Rating,
    StaffMember,
)
from storage.search import candidates
from storage.staff import staff_names

PAGE = 10
SEARCH_LIMIT = 20
_e = escape

# Status words staff type, and the one-letter codes that carry them in button data.
STATUS_CODES = {
    "o": CaseStatus.OPEN,
    "a": CaseStatus.ACCEPTED,
    "p": CaseStatus.IN_PROGRESS,
    "w": CaseStatus.WAITING_MEMBER,
    "c": CaseStatus.COMPLETED,
    "r": CaseStatus.REJECTED,
    "d": CaseStatus.WITHDRAWN,
    "e": CaseStatus.CLOSED,
    "x": CaseStatus.EXPIRED,
}
OPEN_CODE, ALL_CODE = "u", "*"  # not yet finished; any status
STATUS_WORDS = {
    **{texts.CASE_STATUS[status.value]: code for code, status in STATUS_CODES.items()},
    "待受理": "o",
    "未受理": "o",
    "补件": "w",
    "办结": "c",
    "驳回": "r",
    "未结": OPEN_CODE,
    "未办结": OPEN_CODE,
    "在办": OPEN_CODE,
    "全部": ALL_CODE,
    "所有": ALL_CODE,
}
KIND_WORDS = {
    "咨询": CaseKind.CONSULTATION,
    "人工咨询": CaseKind.CONSULTATION,
    "申请": CaseKind.APPLICATION,
}
OVERDUE_WORDS = {"超期", "逾期", "已超期"}
MINE_WORDS = {"我的", "我经办的", "我"}
GENERAL_WORDS = {"综合", "综合工作群"}


class FilterError(ValueError):
    """A /cases or /export word that means nothing; the message says which, in Chinese."""


@dataclass(frozen=True)
class CaseFilter:
    """Which cases a staffer asked for. Departments: None means every one."""

    status: str = OPEN_CODE
    departments: frozenset[str | None] | None = None
    kind: CaseKind | None = None
    form_id: str | None = None
    overdue: bool = False
    mine: bool = False

    def code(self, casework: Casework) -> str:
        """The filter in a few bytes, for the paging buttons' callback data."""
        parts = [self.status]
        if self.departments is not None:
            parts.append(
                "".join(
                    "g" if d is None else str(casework.departments.index(d))
                    for d in sorted(self.departments, key=lambda d: d or "")
                )
            )
        else:
            parts.append("")
        parts.append({None: "", CaseKind.CONSULTATION: "c", CaseKind.APPLICATION: "a"}[self.kind])
        forms = list(casework.forms)
        parts.append(str(forms.index(self.form_id)) if self.form_id in forms else "")
        parts.append(("x" if self.overdue else "") + ("m" if self.mine else ""))
        return ".".join(parts)

    @classmethod
    def from_code(cls, code: str, casework: Casework) -> CaseFilter:
        try:
            status, departments, kind, form, flags = code.split(".")
            forms = list(casework.forms)
            return cls(
                status=status if status in (*STATUS_CODES, OPEN_CODE, ALL_CODE) else OPEN_CODE,
                departments=(
                    frozenset(
                        None if c == "g" else casework.departments[int(c)] for c in departments
                    )
                    if departments
                    else None
                ),
                kind={"c": CaseKind.CONSULTATION, "a": CaseKind.APPLICATION}.get(kind),
                form_id=forms[int(form)] if form else None,
                overdue="x" in flags,
                mine="m" in flags,
            )
        except (ValueError, IndexError):
            raise FilterError(texts.BUTTON_EXPIRED) from None


def parse_filter(words: Sequence[str], staffer: StaffMember, casework: Casework) -> CaseFilter:
    """/cases 待补件 权益保障部 申请 超期 我的: every word narrows; none at all lists the open
    cases of the staffer's department (every department for 全部 staff)."""
    found = CaseFilter(
        departments=None
        if staffer.department == ALL_DEPARTMENTS
        else frozenset({staffer.department, None})
    )
    departments: set[str | None] = set()
    for word in words:
        if word in STATUS_WORDS:
            found = replace(found, status=STATUS_WORDS[word])
        elif word in casework.departments:
            departments.add(word)
        elif word in GENERAL_WORDS:
            departments.add(None)
        elif word in KIND_WORDS:
            found = replace(found, kind=KIND_WORDS[word])
        elif word in OVERDUE_WORDS:
            found = replace(found, overdue=True)
        elif word in MINE_WORDS:
            found = replace(found, mine=True)
        elif (form_id := _form_named(word, casework)) is not None:
            found = replace(found, form_id=form_id, kind=CaseKind.APPLICATION)
        else:
            raise FilterError(texts.CASES_UNKNOWN_WORD.format(word=_e(word)))
    if departments:
        allowed = (
            departments
            if staffer.department == ALL_DEPARTMENTS
            else (departments & {staffer.department, None})
        )
        if not allowed:
            raise FilterError(
                texts.STAFF_OTHER_DEPARTMENT.format(
                    number=texts.CASES_THOSE,
                    department="、".join(map(str, departments)),
                    own=_e(staffer.department),
                )
            )
        found = replace(found, departments=frozenset(allowed))
    return found


def _form_named(word: str, casework: Casework) -> str | None:
    for form in casework.forms.values():
        if word in (form.id, form.title, form.button) or (len(word) >= 2 and word in form.title):
            return form.id
    return None


def find_cases(
    session: Session, wanted: CaseFilter, staffer: StaffMember, casework: Casework, now: datetime
) -> list[Case]:
    """The cases the filter names, newest first, within what the staffer may see."""
    query = select(Case).where(col(Case.number).is_not(None)).order_by(col(Case.id).desc())
    if wanted.status == OPEN_CODE:
        query = query.where(col(Case.status).not_in(FINAL_STATUSES))
    elif wanted.status in STATUS_CODES:
        query = query.where(Case.status == STATUS_CODES[wanted.status])
    if wanted.kind is not None:
        query = query.where(Case.kind == wanted.kind)
    if wanted.form_id is not None:
        query = query.where(Case.form_id == wanted.form_id)
    if wanted.mine:
        query = query.where(Case.assignee_telegram_id == staffer.telegram_id)
    cases = [c for c in session.exec(query).all() if staffer.covers(c.department)]
    if wanted.departments is not None:
        cases = [c for c in cases if c.department in wanted.departments]
    if wanted.overdue:
        cases = [c for c in cases if is_overdue(c, now)]
    return cases


def is_overdue(case: Case, now: datetime) -> bool:
    if case.due_at is None:
        return False
    finished = case.closed_at if case.status in FINAL_STATUSES else None
    return (finished or now) > case.due_at


def search(session: Session, text: str, staffer: StaffMember) -> list[Case]:
    """By case number (or its digits), the member's name, their unit, or the question."""
    needle = text.strip()
    digits = "".join(ch for ch in needle if ch.isdigit())
    # Names, units and questions are stored encrypted: the keyed index names the cases that
    # may hold the words (storage.search), and only those are read; numbers are plain.
    ids = candidates(session, needle) or set()
    by_number = col(Case.number).contains(needle.upper())
    if len(digits) >= 3:
        plain = func.replace(col(Case.number), "-", "")
        by_number = or_(by_number, plain.endswith(digits.lstrip("0") or "0"))
    query = select(Case).where(or_(col(Case.id).in_(ids), by_number))
    found = []
    for case in session.exec(query.order_by(col(Case.id).desc())).all():
        if not staffer.covers(case.department) or case.number is None:
            continue
        answers = case.answers or {}
        haystack = [
            case.member_label or "",
            case.subject,
            *(str(answers.get(key) or "") for key in ("name", "unit", "grassroots_union")),
        ]
        number_hit = needle.upper() in case.number or (
            len(digits) >= 3 and case.number.replace("-", "").endswith(digits.lstrip("0") or "0")
        )
        if number_hit or any(needle in value for value in haystack):
            found.append(case)
        if len(found) >= SEARCH_LIMIT:
            break
    return found


def case_label(case: Case, casework: Casework) -> str:
    """One line per case, for a list's buttons."""
    form = casework.forms.get(case.form_id or "")
    title = form.title if form else texts.CASE_KIND[case.kind.value]
    due = f" · {local_date(case.due_at)[5:]}" if case.due_at and not case.status.is_final else ""
    return f"{case.number} · {status_label(case)} · {title[:10]}{due}"


# ------------------------------------------------------------------ statistics


@dataclass
class Stats:
    start: datetime
    end: datetime
    total: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    by_department: Counter[str] = field(default_factory=Counter)
    to_accept: list[float] = field(default_factory=list)  # working days
    to_finish: list[float] = field(default_factory=list)
    overdue_open: int = 0
    finished_late: int = 0
    ratings: Counter[str] = field(default_factory=Counter)


def parse_period(words: Sequence[str], now: datetime) -> tuple[datetime, datetime, str]:
    """本周, 本月 (the default), 上月, 今年, 7天 / 30天, 2026-11, 2026: (start, end, label)."""
    today = now.astimezone(CHINA).date()
    word = words[0] if words else "本月"

    def day(d: date) -> datetime:
        return datetime.combine(d, datetime.min.time(), CHINA)

    if word == "本周":
        start = today - timedelta(days=today.weekday())
        return day(start), now, word
    if word == "本月":
        return day(today.replace(day=1)), now, word
    if word == "上月":
        first = today.replace(day=1)
        start = (first - timedelta(days=1)).replace(day=1)
        return day(start), day(first), word
    if word in ("今年", "本年"):
        return day(today.replace(month=1, day=1)), now, word
    if (days := re.fullmatch(r"([0-9]{1,4})[天日]", word)) and 0 < int(days[1]) <= 3660:
        return day(today - timedelta(days=int(days[1]) - 1)), now, f"近{word}"
    month = re.fullmatch(r"(20[0-9]{2})-([0-9]{1,2})", word)
    if month and 1 <= int(month[2]) <= 12:
        start_day = date(int(month[1]), int(month[2]), 1)
        following = (start_day + timedelta(days=32)).replace(day=1)
        return day(start_day), day(following), word
    if re.fullmatch(r"20[0-9]{2}", word):
        return day(date(int(word), 1, 1)), day(date(int(word) + 1, 1, 1)), word
    raise FilterError(texts.STATS_BAD_PERIOD.format(period=_e(word)))


def collect_stats(
    session: Session,
    casework: Casework,
    staffer: StaffMember,
    start: datetime,
    end: datetime,
    now: datetime,
) -> tuple[Stats, list[Case]]:
    """The figures for cases filed in [start, end), within the staffer's departments."""
    cases = [
        c
        for c in session.exec(
            select(Case)
            .where(col(Case.created_at) >= start)
            .where(col(Case.created_at) < end)
            .where(col(Case.number).is_not(None))
        ).all()
        if staffer.covers(c.department)
    ]
    stats = Stats(start=start, end=end, total=len(cases))
    calendar = casework.calendar
    for case in cases:
        form = casework.forms.get(case.form_id or "")
        stats.by_type[form.title if form else texts.CASE_KIND[case.kind.value]] += 1
        stats.by_status[status_label(case)] += 1
        stats.by_department[case.department or texts.UNKNOWN_DEPARTMENT] += 1
        if case.accepted_at is not None:
            stats.to_accept.append(calendar.working_days(case.created_at, case.accepted_at))
        if case.closed_at is not None and case.status in (
            CaseStatus.COMPLETED,
            CaseStatus.REJECTED,
            CaseStatus.CLOSED,
        ):
            stats.to_finish.append(calendar.working_days(case.created_at, case.closed_at))
            if case.due_at is not None and case.closed_at > case.due_at:
                stats.finished_late += 1
        elif not case.status.is_final and is_overdue(case, now):
            stats.overdue_open += 1
        if case.rating is not None:
            stats.ratings[case.rating.value] += 1
    return stats, cases


def stats_text(stats: Stats, label: str) -> str:
    def counted(counter: Counter[str]) -> str:
        return "；".join(f"{_e(k)} {v}" for k, v in counter.most_common()) or "—"

    def median(values: list[float]) -> str:
        return f"{statistics.median(values):.1f}" if values else "—"

    rated = sum(stats.ratings.values())
    pleased = stats.ratings[Rating.SATISFIED.value] + stats.ratings[Rating.FAIR.value]
    satisfaction = (
        texts.STATS_SATISFACTION.format(
            rated=rated,
            satisfied=stats.ratings[Rating.SATISFIED.value],
            fair=stats.ratings[Rating.FAIR.value],
            unsatisfied=stats.ratings[Rating.UNSATISFIED.value],
            rate=f"{100 * pleased / rated:.0f}%",
        )
        if rated
        else texts.STATS_NO_RATINGS
    )
    return texts.STATS.format(
        label=_e(label),
        start=local_date(stats.start),
        end=local_date(stats.end - timedelta(seconds=1)),
        total=stats.total,
        by_type=counted(stats.by_type),
        by_status=counted(stats.by_status),
        by_department=counted(stats.by_department),
        to_accept=median(stats.to_accept),
        accepted=len(stats.to_accept),
        to_finish=median(stats.to_finish),
        finished=len(stats.to_finish),
        overdue_open=stats.overdue_open,
        finished_late=stats.finished_late,
        satisfaction=satisfaction,
    )


# ------------------------------------------------------------------ the chart

CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Serif CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "SimHei",
    "Microsoft YaHei",
)
CJK_FILES = ("wqy", "notosanscjk", "notoserifcjk", "sourcehansans", "droidsansfallback", "uming")


def cjk_font() -> str | None:
    """A font family that draws Chinese, or None (the chart would show empty boxes)."""
    from matplotlib import font_manager

    names = {font.name for font in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in names:
            return family
    # Installed after matplotlib cached its font list: add it now.
    for path in font_manager.findSystemFonts():
        if any(mark in Path(path).name.lower().replace("-", "") for mark in CJK_FILES):
            font_manager.fontManager.addfont(path)
            return str(font_manager.FontProperties(fname=path).get_name())
    return None


def weekly_counts(
    cases: Iterable[Case], start: datetime, end: datetime
) -> tuple[list[date], dict[str, list[int]]]:
    """The Mondays of the weeks in [start, end), and each department's cases filed per week."""
    first = start.astimezone(CHINA).date()
    first -= timedelta(days=first.weekday())
    last = (end - timedelta(seconds=1)).astimezone(CHINA).date()
    weeks = []
    while first <= last:
        weeks.append(first)
        first += timedelta(days=7)
    counts: dict[str, Counter[date]] = {}
    for case in cases:
        day = case.created_at.astimezone(CHINA).date()
        week = day - timedelta(days=day.weekday())
        counts.setdefault(case.department or texts.UNKNOWN_DEPARTMENT, Counter())[week] += 1
    return weeks, {
        department: [counts[department][week] for week in weeks] for department in sorted(counts)
    }


def weekly_chart(
    cases: Iterable[Case], start: datetime, end: datetime, title: str
) -> bytes | None:
    """A PNG of cases filed per week, stacked by department; None without a CJK font."""
    family = cjk_font()
    if family is None:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.ticker import MaxNLocator

    weeks, series = weekly_counts(cases, start, end)
    labels = [week.strftime("%m-%d") for week in weeks]
    figure, axes = pyplot.subplots(figsize=(8, 4.5), dpi=110)
    try:
        bottom = [0] * len(weeks)
        for department, values in series.items():
            axes.bar(labels, values, bottom=bottom, label=department)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        axes.set_title(title, fontfamily=family)
        axes.set_xlabel(texts.CHART_X, fontfamily=family)
        axes.set_ylabel(texts.CHART_Y, fontfamily=family)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        if series:
            axes.legend(prop={"family": family})
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        pyplot.close(figure)


# ------------------------------------------------------------------ export


def export_rows(
    session: Session, cases: Sequence[Case], casework: Casework, *, full: bool, now: datetime
) -> tuple[list[str], list[list[str]]]:
    """A header and one row per case; personal data masked unless `full`."""
    names = staff_names(session=session)
    labels: list[str] = []
    for form in casework.forms.values():
        for form_field in form.fields:
            if form_field.label not in labels:
                labels.append(form_field.label)
    header = [*texts.EXPORT_COLUMNS, *labels]
    rows = []
    for case in cases:
        case_form = casework.forms.get(case.form_id or "")
        answers = case.answers or {}
        by_label: dict[str, str] = {}
        if case_form is not None:
            for form_field in case_form.visible_fields(answers):
                if form_field.id in answers:
                    by_label[form_field.label] = display(
                        form_field, answers[form_field.id], masked=not full
                    )
        question = case.subject if full else mask_numbers(case.subject)
        rows.append(
            [
                case.number or "",
                texts.CASE_KIND[case.kind.value],
                case_form.title if case_form else question,
                case.department or texts.UNKNOWN_DEPARTMENT,
                status_label(case),
                case.member_label or "",
                names.get(case.assignee_telegram_id or 0, ""),
                local_minute_full(case.created_at),
                local_minute_full(case.accepted_at),
                local_date(case.due_at) if case.due_at else "",
                local_minute_full(case.closed_at),
                texts.YES if is_overdue(case, now) else texts.NO,
                texts.RATING_LABELS.get(case.rating.value, "") if case.rating else "",
                (case.rating_comment if full else mask_numbers(case.rating_comment or "")) or "",
                *(by_label.get(label, "") for label in labels),
            ]
        )
    return header, [[_inert(value) for value in row] for row in rows]


def _inert(value: str) -> str:
    """A cell a spreadsheet shows as text: members write names and answers, and a leading
    = + - @ would make Excel run it as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def local_minute_full(moment: datetime | None) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if moment else ""


def to_csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens the Chinese text as it is."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(header: Sequence[str], rows: Sequence[Sequence[str]], title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
    sheet.freeze_panes = "A2"
    for index, column in enumerate(sheet.iter_cols(), 1):
        width = max(len(str(cell.value or "")) for cell in column)
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width * 1.6, 8), 40)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
