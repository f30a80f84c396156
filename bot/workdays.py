"""Working days in China: weekends, public holidays and 调休 make-up working days.

The calendar comes from chinese-calendar, which follows the State Council's yearly notice. A
year it does not cover yet (the notice comes out in the autumn before) is counted with weekends
only, and that is logged once per year and shown by `union-bot doctor`.

Deadlines (限时办理) are counted in whole working days after the day a case was filed; times to
acceptance and to completion (for /stats) in working hours within office hours, as fractions of
a working day.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger(__name__)

CHINA = ZoneInfo("Asia/Shanghai")
OFFICE_START = time(9, 0)
OFFICE_END = time(17, 0)


class WorkCalendar:
    """Which days are working days, and how many lie between two moments."""

    def __init__(
        self,
        *,
        office_start: time = OFFICE_START,
        office_end: time = OFFICE_END,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.office_start = office_start
        self.office_end = office_end
        self._warn = warn or log.warning
        self._warned: set[int] = set()

    # -------------------------------------------------------------- days

    @staticmethod
    def covers(year: int) -> bool:
        """Whether chinese-calendar knows the holidays and make-up days of `year`."""
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
        except NotImplementedError:
            return False
        return True

    def is_workday(self, day: date) -> bool:
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            if day.year not in self._warned:
                self._warned.add(day.year)
                self._warn(
                    f"chinese-calendar has no holidays for {day.year} yet: counting weekends "
                    "only (upgrade chinese-calendar once the State Council publishes them)"
                )
            return day.weekday() < 5

    def add_workdays(self, day: date, count: int) -> date:
        """The `count`-th working day after `day` (`day` itself not counted)."""
        while count > 0:
            day += timedelta(days=1)
            if self.is_workday(day):
                count -= 1
        return day

    def deadline(self, start: datetime, days: int) -> datetime:
        """The end of the `days`-th working day after the day of `start` (Beijing time)."""
        last = self.add_workdays(start.astimezone(CHINA).date(), days)
        return datetime.combine(last + timedelta(days=1), time(0), CHINA) - timedelta(seconds=1)

    def workdays_left(self, now: datetime, due: datetime) -> int:
        """Working days from today to the due day: 0 due today, < 0 that many days overdue."""
        today, last = now.astimezone(CHINA).date(), due.astimezone(CHINA).date()
        if today <= last:
            return self._count(today, last)
        return -self._count(last, today)

    def _count(self, after: date, until: date) -> int:
        """Working days in (after, until]."""
        count, day = 0, after
        while day < until:
            day += timedelta(days=1)
            count += self.is_workday(day)
        return count

    # -------------------------------------------------------------- hours

    @property
    def office_hours(self) -> float:
        start = datetime.combine(date.min, self.office_start)
        return (datetime.combine(date.min, self.office_end) - start).total_seconds() / 3600

    def working_hours(self, start: datetime, end: datetime) -> float:
        """Office hours on working days between two moments."""
        start, end = start.astimezone(CHINA), end.astimezone(CHINA)
        if end <= start:
            return 0.0
        total = 0.0
        day = start.date()
        while day <= end.date():
            if self.is_workday(day):
                opens = datetime.combine(day, self.office_start, CHINA)
                closes = datetime.combine(day, self.office_end, CHINA)
                overlap = min(closes, end) - max(opens, start)
                total += max(overlap.total_seconds(), 0.0) / 3600
            day += timedelta(days=1)
        return total

    def working_days(self, start: datetime, end: datetime) -> float:
        """Working time between two moments, in working days of office hours."""
        return self.working_hours(start, end) / self.office_hours
