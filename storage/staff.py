"""The staff roster: who may act on cases, for which department, with which role."""

from __future__ import annotations

from sqlmodel import Session, col, select

from storage.models import StaffMember, StaffRole, utcnow


def staff_member(*, session: Session, telegram_id: int) -> StaffMember | None:
    return session.exec(select(StaffMember).where(StaffMember.telegram_id == telegram_id)).first()


def add_staff(
    *, session: Session, telegram_id: int, name: str, department: str, role: StaffRole
) -> tuple[StaffMember, bool]:
    """Add a staffer, or update one already on the roster; True when they are new."""
    found = staff_member(session=session, telegram_id=telegram_id)
    created = found is None
    staffer = found or StaffMember(telegram_id=telegram_id, name=name, department=department)
    staffer.name, staffer.department, staffer.role = name, department, role
    staffer.updated_at = utcnow()
    session.add(staffer)
    session.flush()
    return staffer, created


def remove_staff(*, session: Session, telegram_id: int) -> StaffMember | None:
    """Take a staffer off the roster; their past actions stay on the cases' records."""
    found = staff_member(session=session, telegram_id=telegram_id)
    if found is not None:
        session.delete(found)
    return found


def roster(*, session: Session, department: str | None = None) -> list[StaffMember]:
    """Everyone on the roster (or everyone who acts for `department`), by department and name."""
    staff = session.exec(
        select(StaffMember).order_by(col(StaffMember.department), col(StaffMember.name))
    ).all()
    return [s for s in staff if department is None or s.covers(department)]


def staff_names(*, session: Session) -> dict[int, str]:
    return {s.telegram_id: s.name for s in session.exec(select(StaffMember))}
