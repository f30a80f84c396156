"""The union's duty catalogue (职责清单): areas, duties and what each duty says."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

KNOWLEDGE_DIR = Path(__file__).resolve().parent
DEFAULT_CATALOGUE_PATH = KNOWLEDGE_DIR / "duties.toml"


class Aspect(StrEnum):
    """Which part of a duty a member asks about."""

    PROCESS = "process"  # 运行流程
    MATERIALS = "materials"  # 运行要件
    BASIS = "basis"  # 法定依据
    DEPARTMENT = "department"  # 实施机构
    CONTACT = "contact"  # 监督方式
    OVERVIEW = "overview"  # a general question about the duty


@dataclass(frozen=True, slots=True)
class Contact:
    """Supervision contacts (监督方式) of a duty; empty strings where the document has none."""

    phone: str = ""
    email: str = ""
    address: str = ""


@dataclass(frozen=True, slots=True)
class Procedure:
    """One run of process steps; a duty may name several (办理程序, 年审程序)."""

    title: str
    steps: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Duty:
    id: str
    area_id: str
    name: str
    title: str  # the shorter wording of the overview table; may differ from name
    basis: tuple[str, ...]
    department: str
    boundary: str
    procedures: tuple[Procedure, ...]
    materials: tuple[str, ...]
    responsibilities: tuple[str, ...]
    contact: Contact

    @property
    def steps(self) -> tuple[str, ...]:
        """All process steps in document order."""
        return tuple(step for procedure in self.procedures for step in procedure.steps)


@dataclass(frozen=True, slots=True)
class Area:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Catalogue:
    areas: tuple[Area, ...]
    duties: tuple[Duty, ...]
    _by_id: dict[str, Duty] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {duty.id: duty for duty in self.duties})

    def __iter__(self) -> Iterator[Duty]:
        return iter(self.duties)

    def __len__(self) -> int:
        return len(self.duties)

    def duty(self, duty_id: str) -> Duty:
        return self._by_id[duty_id]

    def get(self, duty_id: str) -> Duty | None:
        return self._by_id.get(duty_id)

    def area(self, area_id: str) -> Area | None:
        return next((area for area in self.areas if area.id == area_id), None)

    def departments(self) -> tuple[str, ...]:
        """Departments in the order the catalogue first names them."""
        return tuple(dict.fromkeys(duty.department for duty in self.duties if duty.department))

    def duties_of_department(self, department: str) -> tuple[Duty, ...]:
        return tuple(duty for duty in self.duties if duty.department == department)

    def to_data(self) -> dict[str, Any]:
        """The TOML-ready form that `load_catalogue` reads back."""
        return {
            "areas": [{"id": area.id, "name": area.name} for area in self.areas],
            "duties": [
                {
                    "id": duty.id,
                    "area": duty.area_id,
                    "name": duty.name,
                    "title": duty.title,
                    "department": duty.department,
                    "boundary": duty.boundary,
                    "basis": list(duty.basis),
                    "materials": list(duty.materials),
                    "responsibilities": list(duty.responsibilities),
                    "process": [
                        {"title": procedure.title, "steps": list(procedure.steps)}
                        for procedure in duty.procedures
                    ],
                    "contact": {
                        "phone": duty.contact.phone,
                        "email": duty.contact.email,
                        "address": duty.contact.address,
                    },
                }
                for duty in self.duties
            ],
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Catalogue:
        areas = tuple(Area(id=str(a["id"]), name=str(a.get("name", ""))) for a in data["areas"])
        duties = tuple(
            Duty(
                id=str(d["id"]),
                area_id=str(d["area"]),
                name=str(d["name"]),
                title=str(d.get("title", "")),
                basis=tuple(d.get("basis", ())),
                department=str(d.get("department", "")),
                boundary=str(d.get("boundary", "")),
                procedures=tuple(
                    Procedure(title=str(p.get("title", "")), steps=tuple(p.get("steps", ())))
                    for p in d.get("process", ())
                ),
                materials=tuple(d.get("materials", ())),
                responsibilities=tuple(d.get("responsibilities", ())),
                contact=Contact(**d.get("contact", {})),
            )
            for d in data["duties"]
        )
        return cls(areas=areas, duties=duties)


def load_catalogue(path: Path = DEFAULT_CATALOGUE_PATH) -> Catalogue:
    with path.open("rb") as handle:
        return Catalogue.from_data(tomllib.load(handle))
