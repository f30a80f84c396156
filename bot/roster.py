"""The staff roster as people manage it: `union-bot staff …` and /staff in a staff chat."""

from __future__ import annotations

from collections.abc import Sequence

from bot import texts
from storage.models import ALL_DEPARTMENTS, StaffMember, StaffRole

ALL_WORDS = {ALL_DEPARTMENTS, "all", "全部部门", "所有", "所有部门"}
ROLE_WORDS = {
    "handler": StaffRole.HANDLER,
    "经办人": StaffRole.HANDLER,
    "经办": StaffRole.HANDLER,
    "lead": StaffRole.LEAD,
    "负责人": StaffRole.LEAD,
    "admin": StaffRole.ADMIN,
    "管理员": StaffRole.ADMIN,
}


class RosterError(ValueError):
    """A roster entry that cannot be: the message says what is wrong, in Chinese."""


def parse_department(text: str, departments: Sequence[str]) -> str:
    """A department of the catalogue, or ALL_DEPARTMENTS."""
    word = text.strip()
    if word.lower() in ALL_WORDS or word in ALL_WORDS:
        return ALL_DEPARTMENTS
    if word in departments:
        return word
    raise RosterError(
        texts.ROSTER_BAD_DEPARTMENT.format(
            department=word, known="、".join([*departments, ALL_DEPARTMENTS])
        )
    )


def parse_role(text: str) -> StaffRole:
    role = ROLE_WORDS.get(text.strip().lower())
    if role is None:
        raise RosterError(texts.ROSTER_BAD_ROLE.format(role=text.strip()))
    return role


def parse_name(text: str) -> str:
    name = " ".join(text.split())
    if not 1 <= len(name) <= 30:
        raise RosterError(texts.ROSTER_BAD_NAME)
    return name


def roster_line(staffer: StaffMember) -> str:
    return texts.ROSTER_LINE.format(
        telegram_id=staffer.telegram_id,
        name=staffer.name,
        department=staffer.department,
        role=texts.ROLE_LABELS[staffer.role.value],
    )


def roster_text(staff: Sequence[StaffMember]) -> str:
    if not staff:
        return texts.ROSTER_EMPTY
    return "\n".join([texts.ROSTER_HEAD.format(count=len(staff)), *map(roster_line, staff)])
