"""Working days in China: the Spring Festival, 调休 make-up Saturdays, and years not yet known."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.workdays import CHINA, WorkCalendar


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CHINA)


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar()


def test_the_spring_festival_and_its_make_up_saturdays(calendar: WorkCalendar) -> None:
    # 2026: the holiday runs 15–23 February; Saturday 14 and Saturday 28 are working days.
    assert calendar.is_workday(date(2026, 2, 14)), "a 调休 Saturday is a working day"
    assert not calendar.is_workday(date(2026, 2, 16)), "除夕 is a holiday"
    assert not calendar.is_workday(date(2026, 2, 23)), "a Monday inside the holiday"
    assert calendar.is_workday(date(2026, 2, 28))
    assert not calendar.is_workday(date(2026, 2, 21)), "a plain Saturday"
    # Filed on Friday 13 February: day 1 is the make-up Saturday, day 2 the first day after.
    assert calendar.add_workdays(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert calendar.add_workdays(date(2026, 2, 13), 2) == date(2026, 2, 24)
    due = calendar.deadline(at(2026, 2, 13, 16), 3)
    assert due == datetime(2026, 2, 25, 23, 59, 59, tzinfo=CHINA)


def test_days_left_and_overdue(calendar: WorkCalendar) -> None:
    due = calendar.deadline(at(2026, 2, 13), 3)  # 25 February
    assert calendar.workdays_left(at(2026, 2, 13), due) == 3
    assert calendar.workdays_left(at(2026, 2, 20), due) == 2, "the holiday does not count"
    assert calendar.workdays_left(at(2026, 2, 25), due) == 0
    assert calendar.workdays_left(at(2026, 2, 27), due) == -2
    assert calendar.workdays_left(at(2026, 3, 2), due) == -4, "the make-up Saturday counts"


def test_working_hours_count_office_time_on_working_days(calendar: WorkCalendar) -> None:
    # Friday 16:00 to the make-up Saturday 10:00: one hour on Friday, one on Saturday.
    assert calendar.working_hours(at(2026, 2, 13, 16), at(2026, 2, 14, 10)) == pytest.approx(2)
    # Saturday 16:00 to Tuesday 24 February 10:00: the holiday in between counts nothing.
    assert calendar.working_hours(at(2026, 2, 14, 16), at(2026, 2, 24, 10)) == pytest.approx(2)
    # A whole working week is five working days.
    assert calendar.working_days(at(2026, 3, 2, 9), at(2026, 3, 6, 17)) == pytest.approx(5)
    assert calendar.working_hours(at(2026, 3, 2, 12), at(2026, 3, 2, 11)) == 0


def test_a_year_the_library_does_not_know_counts_weekends_and_warns_once() -> None:
    warnings: list[str] = []
    calendar = WorkCalendar(warn=warnings.append)
    year = next(y for y in range(2027, 2100) if not WorkCalendar.covers(y))
    assert WorkCalendar.covers(2026)
    monday, saturday = date(year, 1, 4), date(year, 1, 2)
    while monday.weekday() != 0:
        monday = monday.replace(day=monday.day + 1)
    while saturday.weekday() != 5:
        saturday = saturday.replace(day=saturday.day + 1)
    assert calendar.is_workday(monday) and not calendar.is_workday(saturday)
    assert calendar.add_workdays(monday, 5).weekday() == 0, "five days on: the next Monday"
    assert len(warnings) == 1 and str(year) in warnings[0]
