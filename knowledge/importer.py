"""Import the union's duty list (text extracted from its .docx) into the catalogue data file.

The export is a Word table flattened to text: each cell is a line, labels (序号, 名称, 法定依据 …)
stand on their own line and the value follows on the next lines. The overview table (areas and
short titles) comes first, then one detail section per duty.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import tomli_w

from knowledge.catalogue import Area, Catalogue, Contact, Duty, Procedure

ID_LABEL = "序号"
NAME_LABEL = "名称"
DETAIL_LABELS = (
    "法定依据",
    "实施机构",
    "职责边界",
    "运行流程",
    "运行要件",
    "责任事项",
    "监督方式",
)
LABELS = frozenset((ID_LABEL, NAME_LABEL, *DETAIL_LABELS))

_WORD_ARTEFACT = re.compile(r"\[bookmark:[^\]]*\]")
_DUTY_ID = re.compile(r"^\d+\.\d+$")
_AREA_ID = re.compile(r"^\d+$")
_SECTION_HEADING = re.compile(r"^\d+\.\d+\s*[\u4e00-\u9fff]")
_TRAILING_PUNCTUATION = "；;。.，,、 "
_DASHES = "-—–－"
_LIST_SEPARATORS = re.compile(r"[、，,；;]+")
_NUMBERING = re.compile(r"^\d+\s*[.、．]\s*")
_PROCEDURE_TITLE = re.compile(r"^([\u4e00-\u9fff]{1,8}程序)[：:]\s*")
_DOCUMENT_NUMBER = re.compile(r"\s*[（(][^）)]*[）)]")
_CONTACT_KEYS = (("电话", "phone"), ("邮箱", "email"), ("邮件", "email"), ("地址", "address"))


class CatalogueImportError(ValueError):
    """The file cannot be imported; the message names the offending line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


@dataclass(frozen=True, slots=True)
class _Line:
    number: int  # 1-based, as an editor shows it
    text: str  # cleaned: artefacts removed, full-width and no-break spaces stripped


def clean_line(raw: str) -> str:
    text = _WORD_ARTEFACT.sub("", raw)
    return text.replace("\u3000", " ").replace("\xa0", " ").strip()


def parse_duty_list(text: str, *, source: str = "<text>") -> Catalogue:
    """Parse the flattened duty list; raise CatalogueImportError naming the line on bad input."""
    lines = [_Line(number, clean_line(raw)) for number, raw in enumerate(text.splitlines(), 1)]
    sections = _detail_sections(lines)
    if not sections:
        raise CatalogueImportError(
            1, f"{source} is not a duty list: no detail section with 序号, 名称 and 法定依据 found"
        )
    table_areas, table_titles = _overview_table(lines[: sections[0][0]])
    duties: list[Duty] = []
    seen: dict[str, int] = {}
    for start, end in sections:
        duty = _parse_section(lines[start:end], table_titles)
        if duty.id in seen:
            raise CatalogueImportError(
                lines[start].number,
                f"duplicate duty id {duty.id} (first defined at line {seen[duty.id]})",
            )
        seen[duty.id] = lines[start].number
        duties.append(duty)
    for duty_id, (line, _) in table_titles.items():
        if duty_id not in seen:
            raise CatalogueImportError(
                line, f"the overview table lists duty {duty_id} but no detail section has it"
            )
    area_ids = dict.fromkeys([*table_areas, *(duty.area_id for duty in duties)])
    areas = tuple(Area(id=area_id, name=table_areas.get(area_id, "")) for area_id in area_ids)
    return Catalogue(areas=areas, duties=tuple(duties))


def _detail_sections(lines: Sequence[_Line]) -> list[tuple[int, int]]:
    """(start, end) index ranges of detail sections; each starts at its 序号 label."""
    starts = [i for i, line in enumerate(lines) if line.text == ID_LABEL]
    bounds = [*starts, len(lines)]
    sections = []
    for start, end in itertools.pairwise(bounds):
        labels = {line.text for line in lines[start:end] if line.text in LABELS}
        # The overview table repeats 序号/名称 in its header but has no detail labels.
        if len(labels & set(DETAIL_LABELS)) >= 3:
            sections.append((start, end))
    return sections


def _overview_table(
    lines: Sequence[_Line],
) -> tuple[dict[str, str], dict[str, tuple[int, str]]]:
    """Area names by id, and (line, short title) of each duty, from the overview table."""
    areas: dict[str, list[str]] = {}
    titles: dict[str, tuple[int, list[str]]] = {}
    current: list[str] | None = None
    for line in lines:
        if not line.text or line.text in LABELS:
            continue
        if _SECTION_HEADING.match(line.text):
            current = None  # the first detail section's heading ends the table
        elif _AREA_ID.match(line.text):
            current = areas.setdefault(line.text, [])
        elif _DUTY_ID.match(line.text):
            current = titles.setdefault(line.text, (line.number, []))[1]
        elif current is not None:
            current.append(line.text)
    return (
        {area_id: _join(parts) for area_id, parts in areas.items()},
        {duty_id: (number, _join(parts)) for duty_id, (number, parts) in titles.items()},
    )


def _parse_section(lines: Sequence[_Line], table_titles: dict[str, tuple[int, str]]) -> Duty:
    head = lines[0].number
    fields = _field_values(lines)
    duty_id = _join(fields.get(ID_LABEL, []))
    if not duty_id:
        raise CatalogueImportError(head, "duty has no id (序号 is empty)")
    if not _DUTY_ID.match(duty_id):
        raise CatalogueImportError(head, f"duty id {duty_id!r} is not of the form 1.1")
    name = _join(fields.get(NAME_LABEL, []))
    if not name:
        raise CatalogueImportError(head, f"duty {duty_id} has no name (名称 is missing or empty)")
    return Duty(
        id=duty_id,
        area_id=duty_id.split(".")[0],
        name=name,
        title=table_titles.get(duty_id, (0, ""))[1],
        basis=split_documents(_join(fields.get("法定依据", []))),
        department=_join(fields.get("实施机构", [])),
        boundary=_join(fields.get("职责边界", [])),
        procedures=tuple(
            procedure
            for line in fields.get("运行流程", [])
            if (procedure := parse_procedure(line)).steps
        ),
        materials=split_list(_join(fields.get("运行要件", []))),
        responsibilities=split_numbered(fields.get("责任事项", [])),
        contact=parse_contact(fields.get("监督方式", [])),
    )


def _field_values(lines: Sequence[_Line]) -> dict[str, list[str]]:
    """Each label's value: the non-empty lines right after it, up to a blank line."""
    fields: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines:
        if line.text in LABELS:
            current = fields.setdefault(line.text, [])
        elif not line.text or _SECTION_HEADING.match(line.text):
            current = None  # a blank line or the next duty's heading ends the value
        elif current is not None:
            current.append(line.text)
    return fields


def _join(parts: Sequence[str]) -> str:
    return re.sub(r"\s+", " ", "".join(parts)).strip(_TRAILING_PUNCTUATION)


def parse_procedure(text: str) -> Procedure:
    """One process line: an optional `办理程序：` title, then steps split on dashes."""
    title = ""
    if match := _PROCEDURE_TITLE.match(text):
        title, text = match.group(1), text[match.end() :]
    return Procedure(title=title, steps=split_steps(text))


def split_steps(text: str) -> tuple[str, ...]:
    """Split on -, —, —— (not inside brackets, not in a range such as 2016—2020)."""
    steps: list[str] = []
    current: list[str] = []
    depth = 0
    for index, char in enumerate(text):
        if char in "（(《<〔[":
            depth += 1
        elif char in "）)》>〕]":
            depth = max(0, depth - 1)
        if char in _DASHES and depth == 0 and not _between_digits(text, index):
            steps.append("".join(current))
            current = []
        else:
            current.append(char)
    steps.append("".join(current))
    return tuple(step for raw in steps if (step := raw.strip().strip(_TRAILING_PUNCTUATION)))


def _between_digits(text: str, index: int) -> bool:
    before = text[:index].rstrip(_DASHES)
    after = text[index + 1 :].lstrip(_DASHES)
    return bool(before) and bool(after) and before[-1].isdigit() and after[0].isdigit()


def split_list(text: str) -> tuple[str, ...]:
    return tuple(item for raw in _LIST_SEPARATORS.split(text) if (item := raw.strip()))


def split_numbered(lines: Sequence[str]) -> tuple[str, ...]:
    """Numbered items (1. / 1、 / 1．); an unnumbered line continues the item before it."""
    items: list[str] = []
    for line in lines:
        if _NUMBERING.match(line) or not items:
            items.append(_NUMBERING.sub("", line))
        else:
            items[-1] += line
    return tuple(text for item in items if (text := item.strip().strip(_TRAILING_PUNCTUATION)))


def split_documents(text: str) -> tuple[str, ...]:
    """The documents a legal basis names: issuer prefix, 《title》 and document number kept."""
    text = re.sub(r"\s+》", "》", re.sub(r"《\s+", "《", text))
    documents: list[str] = []
    position = 0
    while (start := text.find("《", position)) != -1:
        end = _closing_bracket(text, start)
        if number := _DOCUMENT_NUMBER.match(text, end):
            end = number.end()
        prefix = text[position:start].strip().strip(_TRAILING_PUNCTUATION + "和及与")
        documents.append((prefix + text[start:end]).strip())
        position = end
    rest = text[position:].strip().strip(_TRAILING_PUNCTUATION + "和及与")
    if rest:
        documents.append(rest)
    return tuple(documents)


def _closing_bracket(text: str, start: int) -> int:
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "《":
            depth += 1
        elif text[index] == "》":
            depth -= 1
            if depth == 0:
                return index + 1
    return len(text)


def parse_contact(lines: Sequence[str]) -> Contact:
    found: dict[str, str] = {}
    for line in lines:
        key, separator, value = line.replace(":", "：").partition("：")
        if not separator:
            continue
        for marker, attribute in _CONTACT_KEYS:
            if marker in key and attribute not in found:
                found[attribute] = value.strip().strip(_TRAILING_PUNCTUATION)
    return Contact(**found)


CATALOGUE_HEADER = """\
# The duty catalogue (职责清单) of the Hedong district federation of trade unions.
# Written by `union-bot import-duties {source}`. Edit by hand if you must, but a new
# import replaces this file. Routing words live in lexicon.toml, which the importer
# never touches.

"""


def write_catalogue(catalogue: Catalogue, path: Path, *, source: str) -> None:
    body = tomli_w.dumps(catalogue.to_data())
    path.write_text(CATALOGUE_HEADER.format(source=source) + body, encoding="utf-8")


def import_duty_list(source: Path, output: Path) -> Catalogue:
    """Read the export at `source`, write the catalogue to `output`, and return it."""
    try:
        text = source.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = source.read_bytes()[: error.start].count(b"\n") + 1
        raise CatalogueImportError(line, f"{source.name} is not UTF-8 text") from error
    catalogue = parse_duty_list(text, source=source.name)
    write_catalogue(catalogue, output, source=source.name)
    return catalogue
