"""Application forms as data (knowledge/forms/*.toml) and the validators for their answers.

A form is tied to a duty and is a list of fields; each field has a type, a prompt, a help text
and a retry hint. `validate` turns what a member typed into a clean JSON-serialisable value, or
raises `ValidationError` with polite Chinese text that says what is wrong (issue 4, sections 1, 2
and 6). No Telegram here: the dialogue engine calls these plain functions.
"""

from __future__ import annotations

import dataclasses
import mimetypes
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import filetype
import phonenumbers
from stdnum import luhn
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumValidationError

from knowledge.catalogue import KNOWLEDGE_DIR, load_catalogue

DEFAULT_FORMS_DIR = KNOWLEDGE_DIR / "forms"

# Bot API: getFile downloads stop at 20 MB, so no form may accept more.
BOT_API_DOWNLOAD_LIMIT_MB = 20.0
# Form and field ids travel in callback data (64 bytes in all), so they stay short.
MAX_ID_LENGTH = 24
MAX_BUTTON_LENGTH = 12
# Telegram messages stop at 4096 characters; a long answer must fit in one.
MAX_TEXT_LENGTH = 4000
MIN_AGE, MAX_AGE = 16, 100  # legal working age in China; beyond 100 a typo is far likelier
TIANJIN_AREA_CODE = "022"

UPLOAD_KINDS = ("photo", "document")
DEFAULT_MIME_TYPES = (
    "application/pdf",
    "image/jpeg",
    "image/png",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)
_MIME_LABELS = {
    "application/pdf": "PDF",
    "image/jpeg": "JPG",
    "image/png": "PNG",
    "image/heic": "HEIC",
    "image/webp": "WEBP",
    "application/msword": "Word",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word",
}
_KIND_LABELS = {"photo": "照片", "document": "文件"}

_ID_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
_MIME_PATTERN = re.compile(r"[a-z]+/[a-z0-9.+-]+")
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_CHINESE_NAME = re.compile(rf"[{_CJK}]+(?:·[{_CJK}]+)*")
_LATIN_NAME = re.compile(r"[A-Za-z]+(?:[ '\-.][A-Za-z]+)*\.?")
_NAME_DOTS = re.compile(r"[•・･．.‧∙⋅·]")
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_EDGE_PUNCTUATION = "。.,，!！?？;；:：、 \t\n"
_LIST_SEPARATORS = re.compile(r"[,，、;；/\s]+|以及|和|及")
_NUMBER = re.compile(
    r"(?:约|大约|大概|共|一共|总共|每人|人均|每月)?\s*"
    r"(?P<number>-?\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千万]+)\s*(?P<wan>万)?\s*"
    r"(?P<rest>[^\d]{0,8})"
)
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
_YES = frozenset(
    {"是", "是的", "对", "对的", "有", "有的", "要", "需要", "好", "好的", "嗯", "同意", "确认"}
    | {"嗯嗯", "是啊", "对啊", "是呀", "对呀", "没错", "可以", "行"}
    | {"y", "yes", "true", "√", "ok"}
)
_NO = frozenset(
    {"否", "不是", "不", "不对", "没有", "没", "无", "不要", "不需要", "不同意"}
    | {"不用", "不用了", "没有的", "不是的", "不行"}
    | {"n", "no", "false", "×"}
)
# 不匿名, 没参加, 不在职: a short "no" made of 不/没 and the question's own word.
_NO_PREFIX = re.compile(r"^(?:不|没|没有|未)[\u4e00-\u9fff]{1,4}$")
_SKIP = frozenset({"跳过", "无", "没有", "不知道", "不清楚", "暂无", "略", "skip", "/skip", "-"})
_CHINESE_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_CHINESE_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
_CHINESE_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}


class FieldType(StrEnum):
    TEXT = "text"
    NAME = "name"
    ID_NUMBER = "id_number"
    PHONE = "phone"
    USCC = "uscc"
    CHOICE = "choice"
    MULTI = "multi"
    NUMBER = "number"
    DATE = "date"
    YESNO = "yesno"
    UPLOAD = "upload"
    LONG_TEXT = "long_text"
    CARD_NUMBER = "card_number"  # a bank card number (the service card): Luhn-checked, masked


class FormError(ValueError):
    """A broken form file: the message names the file and the problem."""


class ValidationError(ValueError):
    """An answer that does not fit its field; `message` is polite Chinese for the member."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Condition:
    """Show a field only if an earlier answer says so."""

    field: str
    equals: Any = None  # the answer equals this (bool for yesno, option text for choice)
    contains: str | None = None  # for multi: this option is among those chosen

    def holds(self, answers: Mapping[str, Any]) -> bool:
        if self.field not in answers:
            return False
        value = answers[self.field]
        if self.contains is not None:
            return isinstance(value, list | tuple) and self.contains in value
        return bool(value == self.equals)


@dataclass(frozen=True, slots=True)
class FormField:
    id: str
    type: FieldType
    label: str  # short label for the summary, e.g. "姓名"
    prompt: str
    help: str
    retry: str  # what is wrong and how to fix it, generic for the field
    optional: bool = False
    when: Condition | None = None
    options: tuple[str, ...] = ()  # choice / multi
    # choice / multi: the words members type for an option (生病了 means 患病), option → words
    option_words: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    min_choices: int = 1  # multi
    max_choices: int | None = None  # multi
    minimum: float | None = None  # number
    maximum: float | None = None  # number
    integer: bool = True  # number
    unit: str = ""  # number
    min_length: int = 0  # text / long_text
    max_length: int = 200  # text / long_text
    not_before: str | None = None  # date: "today" or an ISO date
    not_after: str | None = None  # date: "today" or an ISO date
    kinds: tuple[str, ...] = UPLOAD_KINDS  # upload: allowed kinds
    mime_types: tuple[str, ...] = ()  # upload documents; empty: DEFAULT_MIME_TYPES
    min_count: int = 1  # upload
    max_count: int = 5  # upload
    max_size_mb: float = BOT_API_DOWNLOAD_LIMIT_MB  # upload, at most the Bot API limit
    must_be: Any = None  # eligibility gate: any other answer stops the form with `refusal`
    refusal: str = ""
    sensitive: bool = False  # sensitive personal information: shown to staff, never logged
    mobile_only: bool = False  # phone: a mobile number, no landline
    # The applicant's own name, phone, unit or grassroots union, which the member may have
    # remembered for the next application (/profile). Never a nominee's or a reported unit's.
    remember: str = ""
    # number: at most the answer to this earlier number field (拟入会人数 ≤ 职工人数)
    at_most: str = ""

    def visible(self, answers: Mapping[str, Any]) -> bool:
        return self.when is None or self.when.holds(answers)

    def refuses(self, value: Any) -> bool:
        """True when this is an eligibility gate and `value` fails it: stop with `refusal`."""
        return self.must_be is not None and value != self.must_be


@dataclass(frozen=True, slots=True)
class Privacy:
    """The notice shown before the first field (PIPL: what, why, who sees it, how long)."""

    collected: str
    purpose: str
    recipients: str
    # What this form adds to the keeping rules every notice states from the settings
    # (bot.retention), e.g. 登记结果按规定存档.
    retention: str = ""
    # Sensitive personal information (health): what and why; needs a separate, explicit consent.
    sensitive: str = ""


@dataclass(frozen=True, slots=True)
class Form:
    id: str
    duty: str
    title: str
    button: str
    intro: str
    privacy: Privacy
    fields: tuple[FormField, ...]
    # The handling time limit staff work to, in working days after filing (限时办理). Shown to
    # staff on the card and in the digest, never promised to the member.
    time_limit_days: int
    # What happens next, as the member reads it after filing ({department} is filled in).
    next_steps: str
    # Issue 4, 2.3: a yes/no field "anonymous" decides; name and phone fields depend on it.
    anonymous_allowed: bool = False
    # Which of the duty's procedures a filed case follows, by its title in duties.toml
    # (3.2 has 办理程序 and 年审程序); empty: the first.
    procedure: str = ""

    def field(self, field_id: str) -> FormField:
        for form_field in self.fields:
            if form_field.id == field_id:
                return form_field
        raise KeyError(f"form {self.id!r} has no field {field_id!r}")

    def visible_fields(self, answers: Mapping[str, Any]) -> list[FormField]:
        """Fields shown for these answers; a hidden field's stale answer does not count."""
        seen: dict[str, Any] = {}
        shown = []
        for form_field in self.fields:
            if form_field.visible(seen):
                shown.append(form_field)
                if form_field.id in answers:
                    seen[form_field.id] = answers[form_field.id]
        return shown

    def visible_answers(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """The answers that count: those of visible fields, in form order (for the summary)."""
        return {f.id: answers[f.id] for f in self.visible_fields(answers) if f.id in answers}

    def next_field(self, answers: Mapping[str, Any]) -> FormField | None:
        """The first visible field not answered yet; None when the form is complete."""
        return next((f for f in self.visible_fields(answers) if f.id not in answers), None)

    def previous_field(
        self, answers: Mapping[str, Any], current_id: str | None
    ) -> FormField | None:
        """The visible field before `current_id`; None means "from the summary": the last one."""
        shown = self.visible_fields(answers)
        if current_id is None:
            return shown[-1] if shown else None
        position = self.fields.index(self.field(current_id))
        before = [f for f in shown if self.fields.index(f) < position]
        return before[-1] if before else None


# --- loading -----------------------------------------------------------------------------------

_FORM_KEYS = {f.name for f in dataclasses.fields(Form)}
_FIELD_KEYS = {f.name for f in dataclasses.fields(FormField)}
_PRIVACY_KEYS = {f.name for f in dataclasses.fields(Privacy)}
_CONDITION_KEYS = {f.name for f in dataclasses.fields(Condition)}
_TUPLE_KEYS = ("options", "kinds", "mime_types")
_FLOAT_KEYS = ("minimum", "maximum", "max_size_mb")


def load_forms(
    directory: Path = DEFAULT_FORMS_DIR, *, duties: Iterable[str] | None = None
) -> dict[str, Form]:
    """Every *.toml form in `directory`, by form id; refuses a broken file with FormError."""
    known_duties = set(duties) if duties is not None else {d.id for d in load_catalogue()}
    forms: dict[str, Form] = {}
    paths = sorted(directory.glob("*.toml"))
    if not paths:
        raise FormError(f"{directory}: no form files (*.toml)")
    for path in paths:
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
            form = _form_from_data(data)
            _check_form(form, known_duties)
        except FormError as error:
            raise FormError(f"{path.name}: {error}") from error
        except (tomllib.TOMLDecodeError, TypeError, ValueError, KeyError) as error:
            raise FormError(f"{path.name}: {error}") from error
        if form.id in forms:
            raise FormError(f"{path.name}: form id {form.id!r} is already used by another file")
        forms[form.id] = form
    return forms


def _unknown_keys(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise FormError(f"{where}: unknown key(s) {', '.join(unknown)}")


def _form_from_data(data: Mapping[str, Any]) -> Form:
    _unknown_keys(data, _FORM_KEYS, "form")
    for key in (
        "id",
        "duty",
        "title",
        "button",
        "intro",
        "privacy",
        "fields",
        "time_limit_days",
        "next_steps",
    ):
        if key not in data:
            raise FormError(f"form: missing {key!r}")
    time_limit = data["time_limit_days"]
    if isinstance(time_limit, bool) or not isinstance(time_limit, int) or time_limit < 1:
        raise FormError(
            "form: 'time_limit_days' must be a whole number of working days, 1 or more"
        )
    privacy = data["privacy"]
    if not isinstance(privacy, dict):
        raise FormError("[privacy] must be a table")
    _unknown_keys(privacy, _PRIVACY_KEYS, "[privacy]")
    for key in ("collected", "purpose", "recipients"):
        if key not in privacy:
            raise FormError(f"[privacy]: missing {key!r}")
    raw_fields = data["fields"]
    if not isinstance(raw_fields, list) or not raw_fields:
        raise FormError("form has no [[fields]]")
    return Form(
        id=str(data["id"]),
        duty=str(data["duty"]),
        title=str(data["title"]),
        button=str(data["button"]),
        intro=str(data["intro"]).strip(),
        privacy=Privacy(**{key: str(value).strip() for key, value in privacy.items()}),
        fields=tuple(_field_from_data(raw, number) for number, raw in enumerate(raw_fields, 1)),
        time_limit_days=time_limit,
        next_steps=str(data["next_steps"]).strip(),
        anonymous_allowed=bool(data.get("anonymous_allowed", False)),
        procedure=str(data.get("procedure", "")),
    )


def _field_from_data(raw: Any, number: int) -> FormField:
    where = (
        f"field {number} ({raw.get('id', '?')})" if isinstance(raw, dict) else f"field {number}"
    )
    if not isinstance(raw, dict):
        raise FormError(f"{where}: must be a table")
    _unknown_keys(raw, _FIELD_KEYS, where)
    for key in ("id", "type", "label", "prompt", "help", "retry"):
        if not str(raw.get(key, "")).strip():
            raise FormError(f"{where}: missing {key!r}")
    values = dict(raw)
    try:
        values["type"] = FieldType(raw["type"])
    except ValueError:
        known = ", ".join(t.value for t in FieldType)
        raise FormError(f"{where}: unknown type {raw['type']!r} (known: {known})") from None
    for key in _TUPLE_KEYS:
        if key in values:
            if not isinstance(values[key], list):
                raise FormError(f"{where}: {key!r} must be a list")
            values[key] = tuple(str(item) for item in values[key])
    if "option_words" in values:
        words = values["option_words"]
        if not isinstance(words, dict) or not all(isinstance(v, list) for v in words.values()):
            raise FormError(f"{where}: 'option_words' must be a table of lists")
        values["option_words"] = {
            str(option): tuple(str(word) for word in listed) for option, listed in words.items()
        }
    for key in _FLOAT_KEYS:
        if key in values:
            values[key] = float(values[key])
    for key in ("prompt", "help", "retry", "refusal"):
        if key in values:
            values[key] = str(values[key]).strip()
    if "when" in values:
        when = values["when"]
        if not isinstance(when, dict):
            raise FormError(f"{where}: 'when' must be a table like {{field = ..., equals = ...}}")
        _unknown_keys(when, _CONDITION_KEYS, f"{where} when")
        values["when"] = Condition(**when)
    return FormField(**values)


REMEMBERED = {
    "name": (FieldType.NAME,),
    "phone": (FieldType.PHONE,),
    "unit": (FieldType.TEXT,),
    "grassroots_union": (FieldType.TEXT,),
}


def _check_form(form: Form, known_duties: set[str]) -> None:
    problems: list[str] = []
    remembered = [f for f in form.fields if f.remember]
    for form_field in remembered:
        if form_field.remember not in REMEMBERED:
            known = ", ".join(REMEMBERED)
            problems.append(f"field {form_field.id}: remember must be one of {known}")
        elif form_field.type not in REMEMBERED[form_field.remember]:
            problems.append(
                f"field {form_field.id}: a {form_field.type.value} field cannot be "
                f"remembered as {form_field.remember}"
            )
    for form_field in form.fields:
        if form_field.at_most:
            before = form.fields[: form.fields.index(form_field)]
            bound = next((f for f in before if f.id == form_field.at_most), None)
            numbers = bound is not None and FieldType.NUMBER is form_field.type is bound.type
            if not numbers:
                problems.append(f"field {form_field.id}: at_most must name an earlier number")
    if remembered and form.anonymous_allowed:
        problems.append("an anonymous form remembers nothing: remove 'remember'")
    if len({f.remember for f in remembered}) != len(remembered):
        problems.append("two fields remember the same thing")
    if not _ID_PATTERN.fullmatch(form.id) or len(form.id) > MAX_ID_LENGTH:
        problems.append(f"form id {form.id!r} must be ASCII snake_case, <= {MAX_ID_LENGTH} chars")
    if form.duty not in known_duties:
        problems.append(f"duty {form.duty!r} is not a duty in the catalogue")
    if not form.button.strip() or len(form.button) > MAX_BUTTON_LENGTH:
        problems.append(f"button {form.button!r} must be 1-{MAX_BUTTON_LENGTH} characters")
    for key in ("title", "intro"):
        if not getattr(form, key).strip():
            problems.append(f"{key} is empty")
    for key in ("collected", "purpose", "recipients"):
        if not getattr(form.privacy, key):
            problems.append(f"[privacy] {key} is empty")
    if any(f.sensitive for f in form.fields) and not form.privacy.sensitive:
        problems.append("a field is sensitive, so [privacy] sensitive must say what and why")
    earlier: dict[str, FormField] = {}
    for form_field in form.fields:
        where = f"field {form_field.id!r}"
        if form_field.id in earlier:
            problems.append(f"{where}: duplicate field id")
            continue
        if not _ID_PATTERN.fullmatch(form_field.id) or len(form_field.id) > MAX_ID_LENGTH:
            problems.append(f"{where}: id must be ASCII snake_case, <= {MAX_ID_LENGTH} chars")
        problems += [f"{where}: {problem}" for problem in _field_problems(form_field, earlier)]
        earlier[form_field.id] = form_field
    if form.anonymous_allowed:
        problems += _anonymity_problems(form)
    if problems:
        raise FormError("; ".join(problems))


def _field_problems(field: FormField, earlier: Mapping[str, FormField]) -> list[str]:
    problems: list[str] = []
    kind = field.type
    if field.options and kind not in (FieldType.CHOICE, FieldType.MULTI):
        problems.append("options are only for choice and multi fields")
    if kind in (FieldType.CHOICE, FieldType.MULTI):
        if len(field.options) < 2 or len(set(field.options)) != len(field.options):
            problems.append("choice/multi needs at least 2 distinct options")
        if any(not option.strip() or option.isdigit() for option in field.options):
            problems.append("an option is empty or a bare number (numbers pick options)")
    if unknown := [option for option in field.option_words if option not in field.options]:
        problems.append(f"option_words for {', '.join(unknown)}: not an option")
    if any(len(word) < 2 for words in field.option_words.values() for word in words):
        problems.append("option_words: a word of one character finds itself everywhere")
    if kind is FieldType.MULTI:
        top = field.max_choices if field.max_choices is not None else len(field.options)
        if not 1 <= field.min_choices <= top <= len(field.options):
            problems.append("need 1 <= min_choices <= max_choices <= number of options")
    if (
        kind is FieldType.NUMBER
        and field.minimum is not None
        and field.maximum is not None
        and field.minimum > field.maximum
    ):
        problems.append("minimum is above maximum")
    if kind in (FieldType.TEXT, FieldType.LONG_TEXT) and not (
        0 <= field.min_length <= field.max_length <= MAX_TEXT_LENGTH and field.max_length > 0
    ):
        problems.append(f"need 0 <= min_length <= max_length <= {MAX_TEXT_LENGTH}")
    if kind is FieldType.DATE:
        for key in ("not_before", "not_after"):
            bound = getattr(field, key)
            if bound is not None and bound != "today":
                try:
                    date.fromisoformat(bound)
                except ValueError:
                    problems.append(f"{key} must be 'today' or an ISO date, not {bound!r}")
    if kind is FieldType.UPLOAD:
        problems += _upload_problems(field)
    if field.mobile_only and kind is not FieldType.PHONE:
        problems.append("mobile_only is only for phone fields")
    if field.when is not None:
        problems += _condition_problems(field.when, earlier)
    if field.must_be is not None:
        if kind is FieldType.YESNO and not isinstance(field.must_be, bool):
            problems.append("must_be of a yesno field must be true or false")
        elif kind is FieldType.CHOICE and field.must_be not in field.options:
            problems.append("must_be of a choice field must be one of its options")
        elif kind not in (FieldType.YESNO, FieldType.CHOICE):
            problems.append("must_be is only for yesno and choice fields")
        if not field.refusal:
            problems.append("must_be needs a refusal text")
        if field.optional:
            problems.append("an eligibility gate (must_be) cannot be optional")
    elif field.refusal:
        problems.append("refusal without must_be")
    return problems


def _upload_problems(field: FormField) -> list[str]:
    problems = []
    if not field.kinds or not set(field.kinds) <= set(UPLOAD_KINDS):
        problems.append(f"kinds must be among {', '.join(UPLOAD_KINDS)}")
    if not 0 <= field.min_count <= field.max_count or field.max_count < 1:
        problems.append("need 0 <= min_count <= max_count and max_count >= 1")
    if field.min_count == 0 and not field.optional:
        problems.append("min_count = 0 needs optional = true")
    if not 0 < field.max_size_mb <= BOT_API_DOWNLOAD_LIMIT_MB:
        problems.append(f"max_size_mb must be in (0, {BOT_API_DOWNLOAD_LIMIT_MB:g}] (Bot API)")
    problems += [
        f"mime type {mime!r} is malformed"
        for mime in field.mime_types
        if not _MIME_PATTERN.fullmatch(mime)
    ]
    return problems


def _condition_problems(when: Condition, earlier: Mapping[str, FormField]) -> list[str]:
    source = earlier.get(when.field)
    if source is None:
        return [f"condition refers to {when.field!r}, which is not an earlier field"]
    if (when.equals is None) == (when.contains is None):
        return ["a condition needs exactly one of equals or contains"]
    if when.contains is not None:
        if source.type is not FieldType.MULTI or when.contains not in source.options:
            return [f"contains {when.contains!r} must be an option of a multi field"]
        return []
    if source.type is FieldType.YESNO and not isinstance(when.equals, bool):
        return ["a condition on a yesno field must be equals = true or false"]
    if source.type in (FieldType.CHOICE, FieldType.MULTI) and when.equals not in source.options:
        return [f"equals {when.equals!r} is not an option of {source.id!r}"]
    return []


def _anonymity_problems(form: Form) -> list[str]:
    try:
        switch = form.field("anonymous")
    except KeyError:
        return ["anonymous_allowed needs a yesno field with id 'anonymous'"]
    problems = [] if switch.type is FieldType.YESNO else ["field 'anonymous' must be yesno"]
    identifying = (FieldType.NAME, FieldType.PHONE, FieldType.ID_NUMBER)
    problems += [
        f"field {f.id!r} identifies the member, so it needs when = "
        "{field = 'anonymous', equals = false}"
        for f in form.fields
        if f.type in identifying and f.when != Condition(field="anonymous", equals=False)
    ]
    return problems


# --- validating answers ------------------------------------------------------------------------


def validate(field: FormField, text: str, *, today: date) -> Any:
    """A member's typed answer → a normalized JSON-serialisable value, or ValidationError.

    Values: text/long_text/name/choice → str; id_number → 18 characters, upper case; phone →
    E.164 ("+8613900001234", "+862224316932"); uscc → 18 characters, upper case; multi → list of
    option texts in option order; number → int (float only if it has a fraction); date → ISO
    "YYYY-MM-DD"; yesno → bool. An optional field answered with a skip word (跳过, 无 …) → None.
    """
    if field.type is FieldType.UPLOAD:
        raise TypeError(f"field {field.id!r} is an upload: use validate_upload")
    if field.type in (FieldType.TEXT, FieldType.LONG_TEXT):
        cleaned = _clean_text(text, multiline=field.type is FieldType.LONG_TEXT)
    else:
        cleaned = _squash(text)
    if not cleaned:
        raise ValidationError(f"您还没有填写{field.label}。{field.retry}")
    if field.optional and field.type is not FieldType.YESNO and _is_skip(field, cleaned):
        return None
    match field.type:
        case FieldType.TEXT | FieldType.LONG_TEXT:
            return _validate_text(field, cleaned)
        case FieldType.NAME:
            return _validate_name(field, cleaned)
        case FieldType.ID_NUMBER:
            return _validate_id_number(field, cleaned, today)
        case FieldType.PHONE:
            return _validate_phone(field, cleaned)
        case FieldType.USCC:
            return _validate_uscc(field, cleaned)
        case FieldType.CARD_NUMBER:
            return _validate_card_number(field, cleaned)
        case FieldType.CHOICE:
            return _validate_choice(field, cleaned)
        case FieldType.MULTI:
            return _validate_multi(field, cleaned)
        case FieldType.NUMBER:
            return _validate_number(field, cleaned)
        case FieldType.DATE:
            return _validate_date(field, cleaned, today)
        case FieldType.YESNO:
            return _validate_yesno(field, cleaned)
    raise TypeError(f"unhandled field type {field.type!r}")  # pragma: no cover


def _squash(text: str) -> str:
    """Full-width → half-width (NFKC), invisible characters out, ends trimmed."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    return text.strip()


def _clean_text(text: str, *, multiline: bool) -> str:
    # Chinese punctuation is meaningful in free text, so no NFKC here.
    text = _INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    kept = []
    for char in text:
        if char == "\n" and multiline:
            kept.append(char)
        elif char in "\n\t":
            kept.append(" ")
        elif unicodedata.category(char) != "Cc":
            kept.append(char)
    return "".join(kept).strip()


def _is_skip(field: FormField, cleaned: str) -> bool:
    word = cleaned.strip(_EDGE_PUNCTUATION).casefold()
    return word in _SKIP and word not in {o.casefold() for o in field.options}


def _reject(field: FormField, reason: str) -> ValidationError:
    return ValidationError(f"{reason}{field.retry}")


# A field naming an organisation, by its label: 工作单位, 企业名称, 工会名称, 所属基层工会.
_ORGANISATION_LABEL = re.compile(r"(单位|名称|工会)$")
_USCC_SHAPE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}")


def names_organisation(field: FormField) -> bool:
    """A field whose answer is an organisation's name (工作单位, 企业名称, 所属基层工会)."""
    return field.type is FieldType.TEXT and bool(_ORGANISATION_LABEL.search(field.label))


# How organisations' names end: 某某机械厂工会, 某某有限公司, 某某街道社区卫生服务中心.
_ORGANISATION_NAME = re.compile(
    r"(工会|工会委员会|联合会|分会|公司|集团|厂|车间|中心|医院|学校|小学|中学|大学|学院|幼儿园|"
    r"委员会|局|处|所|院|站|店|社|馆|行|部|队|场|矿|银行|酒店|宾馆|超市|商场|门市|办事处)$"
)


def looks_like_organisation_name(field: FormField, text: str) -> bool:
    """An organisation field answered with what reads as an organisation's name: its 工会 or
    公司 names the organisation, it does not ask about one."""
    words = text.strip().rstrip("。.")
    return names_organisation(field) and bool(_ORGANISATION_NAME.search(words))


def _validate_text(field: FormField, text: str) -> str:
    if names_organisation(field):
        compact = re.sub(r"[\s\-]", "", text).upper()
        if _USCC_SHAPE.fullmatch(compact):
            raise _reject(field, f"这是统一社会信用代码，请填写{field.label}的全称。")
        if not re.search(r"[\u4e00-\u9fffA-Za-z]", text):
            raise _reject(field, f"请填写{field.label}的名称，不要只填数字。")
    length = len(text)
    if length < field.min_length:
        raise _reject(field, f"{field.label}至少需要{field.min_length}个字，您写了{length}个字。")
    if length > field.max_length:
        raise _reject(
            field, f"{field.label}最多{field.max_length}个字，您写了{length}个字，请精简一些。"
        )
    return text


# Words of a question, not of a name: a member asking something where the name is asked.
_NOT_A_NAME = re.compile(r"[?？吗呢]|怎么|什么|咋|如何|为啥|请问|上一|返回|取消|跳过")
CHINESE_NAME_MAX = 6  # without a ·: 欧阳娜娜 and the like; longer names carry a ·


def _validate_name(field: FormField, text: str) -> str:
    if any(char.isdigit() for char in text):
        raise _reject(field, "姓名中不能含有数字。")
    if _NOT_A_NAME.search(text):
        raise _reject(field, "这看起来不像姓名。")
    if re.search(f"[{_CJK}]", text):
        name = _NAME_DOTS.sub("·", re.sub(r"\s+", "", text))
        if not _CHINESE_NAME.fullmatch(name):
            raise _reject(field, "姓名中含有无法识别的符号。")
        if "·" not in name and len(name) > CHINESE_NAME_MAX:
            raise _reject(field, f"姓名一般不超过{CHINESE_NAME_MAX}个字，请只填写姓名。")
    else:
        name = re.sub(r"\s+", " ", text)
        if not _LATIN_NAME.fullmatch(name):
            raise _reject(field, "姓名只能由汉字（少数民族姓名可用“·”分隔）或英文字母组成。")
    if not 2 <= len(name) <= 20:
        raise _reject(field, f"姓名应为2至20个字，您输入了{len(name)}个字。")
    return name


def _validate_card_number(field: FormField, text: str) -> str:
    digits = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", text))
    if not digits.isdigit():
        raise _reject(field, "卡号只能由数字组成。")
    if not 16 <= len(digits) <= 19:
        raise _reject(field, f"卡号应为16至19位数字，您输入了{len(digits)}位。")
    if not luhn.is_valid(digits):
        raise _reject(field, "卡号的校验位不对，请对照卡面核对。")
    return digits


def _validate_id_number(field: FormField, text: str, today: date) -> str:
    number = ric.compact(re.sub(r"[\s\-_]+", "", text))
    if len(number) == 15 and number.isdigit():
        raise ValidationError("这是15位的旧身份证号码，请输入18位的新号码。")
    if len(number) != 18:
        raise _reject(field, f"身份证号码应为18位，您输入了{len(number)}位。")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise _reject(field, "身份证号码前17位应为数字，最后一位是数字或字母X。")
    try:
        birth = ric.get_birth_date(number)
    except InvalidComponent:
        raise _reject(field, "身份证号码中的出生日期（第7至14位）不是一个真实的日期。") from None
    if birth > today:
        raise _reject(field, "身份证号码中的出生日期晚于今天。")
    if number[-1] != ric.calc_check_digit(number):
        raise ValidationError("身份证号码的校验位不对，请核对后重新输入。")
    # The region (first 6 digits) is not checked: stdnum's table lags behind new district codes,
    # and the check digit already catches a mistyped digit.
    age = _age(birth, today)
    if not MIN_AGE <= age <= MAX_AGE:
        raise ValidationError(
            f"按身份证号码计算，年龄为{age}岁，不在{MIN_AGE}至{MAX_AGE}岁的范围内，"
            "请核对号码是否输错。"
        )
    return number


def _age(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


_EXTENSION = re.compile(r"\s*(?:转|分机|ext\.?|x)\s*(\d{1,6})\s*$", re.IGNORECASE)
EXTENSION_MARK = " 转"  # how an extension is kept after the number: +862224312556 转801


def _validate_phone(field: FormField, text: str) -> str:
    extension = ""
    if (found := _EXTENSION.search(text)) is not None and not field.mobile_only:
        extension, text = EXTENSION_MARK + found.group(1), text[: found.start()]
    digits = re.sub(r"[\s\-()（）.]+", "", text)
    if not re.fullmatch(r"\+?\d+", digits):
        raise _reject(field, "电话号码只能包含数字。")
    if len(digits) == 8 and digits[0] != "1" and not field.mobile_only:
        digits = TIANJIN_AREA_CODE + digits  # a Tianjin local number typed without 022
    try:
        number = phonenumbers.parse(digits, "CN")
    except phonenumbers.NumberParseException:
        raise _reject(field, "无法识别这个电话号码。") from None
    if number.country_code != 86:
        raise _reject(field, "目前只能登记中国大陆的电话号码。")
    kind = phonenumbers.number_type(number)
    national = str(number.national_number)
    if field.mobile_only and not national.startswith("1"):
        raise _reject(field, "这里需要填写手机号码，不能填写座机号码。")
    if national.startswith("1") and len(national) != 11:
        raise _reject(field, f"手机号码应为11位，您输入了{len(national)}位。")
    allowed = (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )
    if not phonenumbers.is_valid_number(number) or kind not in allowed:
        raise _reject(field, "这个号码不是有效的手机或座机号码。")
    if extension and national.startswith("1"):
        raise _reject(field, "手机号码没有分机号，请只填写11位手机号码。")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) + extension


def _validate_uscc(field: FormField, text: str) -> str:
    code = uscc.compact(re.sub(r"[\s\-_]+", "", text))
    try:
        return uscc.validate(code)
    except InvalidLength:
        raise _reject(field, f"统一社会信用代码应为18位，您输入了{len(code)}位。") from None
    except InvalidFormat:
        raise _reject(
            field,
            "统一社会信用代码前8位是数字，其余为数字或大写字母（不含I、O、Z、S、V）。",
        ) from None
    except InvalidChecksum:
        raise ValidationError("统一社会信用代码的校验位不对，请核对后重新输入。") from None
    except StdnumValidationError:  # pragma: no cover - stdnum has no other failure today
        raise _reject(field, "无法识别这个统一社会信用代码。") from None


def _option_for(field: FormField, token: str, *, words: bool = True) -> str | None:
    """An option picked by its number ("2"), its text, a part of it only it contains, or (if
    `words`) the one option whose member words the token says (生病了 → 患病)."""
    token = token.strip(_EDGE_PUNCTUATION)
    if token.isdigit():
        index = int(token)
        return field.options[index - 1] if 1 <= index <= len(field.options) else None
    folded = unicodedata.normalize("NFKC", token).casefold()
    normalized = {unicodedata.normalize("NFKC", o).casefold(): o for o in field.options}
    if folded in normalized:
        return normalized[folded]
    if len(folded) >= 2:
        partial = [option for key, option in normalized.items() if folded in key]
        if len(partial) == 1:
            return partial[0]
    said = _options_said(field, folded, texts=False) if words else []
    return said[0] if len(said) == 1 else None


def _options_said(field: FormField, folded: str, *, texts: bool = True) -> list[str]:
    """The options whose text (if `texts`) or member words appear in `folded` text."""
    return [
        option
        for option in field.options
        if (
            texts
            and len(option) >= 2
            and unicodedata.normalize("NFKC", option).casefold() in folded
        )
        or any(word.casefold() in folded for word in field.option_words.get(option, ()))
    ]


def _numbered(options: tuple[str, ...]) -> str:
    return "；".join(f"{number}. {option}" for number, option in enumerate(options, 1))


def _validate_choice(field: FormField, text: str) -> str:
    option = _option_for(field, text)
    if option is None:
        # 我退休了 → 退休: the one option the words contain.
        contained = _options_said(field, unicodedata.normalize("NFKC", text).casefold())
        option = contained[0] if len(contained) == 1 else None
    if option is None:
        raise _reject(field, f"没有找到“{text}”这一项，可选：{_numbered(field.options)}。")
    return option


def _validate_multi(field: FormField, text: str) -> list[str]:
    whole = _option_for(field, text, words=False)  # 患病、失业 says two: split it first
    tokens = [whole] if whole is not None else None
    if tokens is None:
        tokens = []
        for part in filter(None, _LIST_SEPARATORS.split(text)):
            # "13" with fewer than 10 options can only mean options 1 and 3.
            if part.isdigit() and len(field.options) < 10 and int(part) > len(field.options):
                pieces = list(part)
            else:
                pieces = [part]
            for piece in pieces:
                option = _option_for(field, piece)
                if option is None:
                    raise _reject(
                        field, f"没有找到“{piece}”这一项，可选：{_numbered(field.options)}。"
                    )
                tokens.append(option)
    chosen = [option for option in field.options if option in tokens]
    top = field.max_choices if field.max_choices is not None else len(field.options)
    if len(chosen) < field.min_choices:
        raise _reject(field, f"请至少选择{field.min_choices}项。")
    if len(chosen) > top:
        raise _reject(field, f"最多只能选择{top}项，您选择了{len(chosen)}项。")
    return chosen


def _chinese_number(text: str) -> int | None:
    """Small Chinese numerals as members type them: 三, 十五, 一千零五, 两千五 (= 2500)."""
    total, section, digit, last_unit = 0, 0, None, 1
    for char in text:
        if char in ("零", "〇"):
            digit, last_unit = None, 1  # 一千零五: what follows counts as ones
        elif char in _CHINESE_DIGITS:
            if digit is not None:
                return None  # 二三 is not a number
            digit = _CHINESE_DIGITS[char]
        elif char in _CHINESE_UNITS:
            unit = _CHINESE_UNITS[char]
            if unit == 10000:
                total += (section + (digit or 0)) * unit
                section = 0
            else:
                section += (1 if digit is None else digit) * unit
            digit, last_unit = None, unit
        else:
            return None
    if digit is not None:
        # 两千五 means 2500 and 三万五 35000: a trailing digit counts one place below the unit.
        section += digit * (last_unit // 10 if last_unit >= 100 else 1)
    return total + section


def _validate_number(field: FormField, text: str) -> int | float:
    cleaned = re.sub(r"(?<=\d)[,，](?=\d{3})", "", text)  # 2,500
    match = _NUMBER.fullmatch(cleaned)
    rest = match.group("rest").strip(_EDGE_PUNCTUATION) if match else ""
    units = {
        field.unit,
        "元",
        "块",
        "块钱",
        "人",
        "口",
        "口人",
        "名",
        "位",
        "个",
        "个人",
        "年",
        "岁",
    }
    allowed_rest = rest == "" or re.fullmatch(
        r"(?:" + "|".join(re.escape(u) for u in units if u) + r")?(?:/月|每月|左右|以上)?", rest
    )
    if match is None or not allowed_rest:
        raise _reject(field, f"没能从“{text}”中识别出一个数字。")
    raw = match.group("number")
    if raw[0].isdigit() or raw[0] == "-":
        value: float = float(raw)
    else:
        parsed = _chinese_number(raw)
        if parsed is None:
            raise _reject(field, "请用阿拉伯数字输入，例如 3。")
        value = float(parsed)
    if match.group("wan"):
        value *= 10000
    unit = field.unit
    if field.integer and not value.is_integer():
        raise _reject(field, "这里需要一个整数。")
    if field.minimum is not None and value < field.minimum:
        raise _reject(field, f"{field.label}不能小于{_format_number(field.minimum)}{unit}。")
    if field.maximum is not None and value > field.maximum:
        raise _reject(field, f"{field.label}不能大于{_format_number(field.maximum)}{unit}。")
    return int(value) if value.is_integer() else value


def _format_number(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _date_bound(bound: str | None, today: date) -> date | None:
    if bound is None:
        return None
    return today if bound == "today" else date.fromisoformat(bound)


def _validate_date(field: FormField, text: str, today: date) -> str:
    relative = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2}
    word = text.strip(_EDGE_PUNCTUATION)
    parts: tuple[str, str, str] | None = None
    if word in relative:
        value = today - timedelta(days=relative[word])
    else:
        if re.fullmatch(r"\d{8}", word):
            parts = (word[:4], word[4:6], word[6:])
        elif match := _DATE.fullmatch(word):
            parts = (match.group(1), match.group(2), match.group(3))
        else:
            raise _reject(field, "无法识别这个日期。")
        try:
            value = date(int(parts[0]), int(parts[1]), int(parts[2]))
        except ValueError:
            raise _reject(field, f"{word}不是一个真实的日期。") from None
    earliest = _date_bound(field.not_before, today)
    latest = _date_bound(field.not_after, today)
    if earliest is not None and value < earliest:
        when = "今天" if field.not_before == "today" else _format_date(earliest.isoformat())
        raise _reject(field, f"日期不能早于{when}。")
    if latest is not None and value > latest:
        when = "今天" if field.not_after == "today" else _format_date(latest.isoformat())
        raise _reject(field, f"日期不能晚于{when}。")
    return value.isoformat()


def _validate_yesno(field: FormField, text: str) -> bool:
    word = text.strip(_EDGE_PUNCTUATION).casefold()
    if word in _YES:
        return True
    if word in _NO or _NO_PREFIX.match(word):
        return False
    raise _reject(field, f"抱歉，没能看懂“{text}”。")


def validate_upload(
    field: FormField,
    *,
    kind: str,
    mime_type: str | None,
    size: int | None,
    file_name: str | None,
    count_so_far: int,
) -> str | None:
    """None if this file may be added to the field's answer, else a polite Chinese refusal.

    `kind` is "photo" or "document" (anything else, e.g. "video", is refused); `size` in bytes
    as Telegram reports it (None: unknown, so the engine checks again after download).
    """
    if field.type is not FieldType.UPLOAD:
        raise TypeError(f"field {field.id!r} is not an upload")
    if count_so_far >= field.max_count:
        return f"本项最多上传{field.max_count}个文件，您已上传{count_so_far}个，请继续下一步。"
    if kind not in field.kinds:
        allowed = "或".join(_KIND_LABELS.get(k, k) for k in field.kinds)
        hint = "（请以“文件”方式发送）" if field.kinds == ("document",) else ""
        return f"这里只能上传{allowed}{hint}，请重新发送。"
    limit_mb = min(field.max_size_mb, BOT_API_DOWNLOAD_LIMIT_MB)
    if size is not None and size > limit_mb * 1024 * 1024:
        return (
            f"这个文件有{size / 1024 / 1024:.1f} MB，超过了{limit_mb:g} MB的上限，"
            "请压缩后重新发送，或拍照发送。"
        )
    if kind == "document":
        allowed_types = field.mime_types or DEFAULT_MIME_TYPES
        guessed = mime_type
        if (guessed is None or guessed == "application/octet-stream") and file_name:
            guessed = mimetypes.guess_type(file_name)[0]
        if guessed not in allowed_types:
            labels = "、".join(dict.fromkeys(_MIME_LABELS.get(m, m) for m in allowed_types))
            return f"不支持这种文件格式，请上传 {labels} 格式的文件。"
    return None


# Telegram re-encodes what is sent as a photo: these are what a photo's bytes may be.
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")


def allowed_types(field: FormField, kind: str) -> tuple[str, ...]:
    """The file types an upload to this field may really be (by content), for its kind."""
    return PHOTO_TYPES if kind == "photo" else tuple(field.mime_types or DEFAULT_MIME_TYPES)


# A Word 97-2003 .doc is an OLE compound file (which filetype does not name) holding a stream
# called WordDocument; the directory stores stream names in UTF-16.
OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
WORD_STREAM = "WordDocument".encode("utf-16-le")


def detected_type(content: bytes) -> str:
    """The file's type as its bytes show it (application/octet-stream: none known)."""
    if content.startswith(OLE_MAGIC):
        # Other OLE files (.xls, .ppt, .msi) are not Word documents.
        return "application/msword" if WORD_STREAM in content else "application/x-ole-storage"
    found = filetype.guess_mime(content) or "application/octet-stream"
    return "image/png" if found == "image/apng" else str(found)


def content_problem(allowed: Sequence[str], content: bytes) -> str | None:
    """None if the file's bytes are one of the allowed types, else a polite refusal naming what
    is allowed. The type is read from the content itself (its magic bytes), never from the
    name or the type the sender's app declared: 证件.pdf.exe, or a web page declared as PDF,
    is refused."""
    if detected_type(content) in allowed:
        return None
    labels = "、".join(dict.fromkeys(_MIME_LABELS.get(m, m) for m in allowed))
    return f"这个文件的实际内容不是 {labels} 格式，无法接收。请上传 {labels} 格式的文件。"


def cross_field_problem(
    form: Form, field: FormField, value: Any, answers: Mapping[str, Any]
) -> str | None:
    """What the form's own rules between answers say of this one (拟入会人数 ≤ 职工人数)."""
    if field.at_most and value is not None:
        bound = answers.get(field.at_most)
        if isinstance(bound, int | float) and value > bound:
            limit = form.field(field.at_most)
            most = f"{_format_number(float(bound))}{limit.unit}"
            return f"{field.label}不能多于{limit.label}（{most}）。"
    return None


def upload_count_problem(field: FormField, count: int) -> str | None:
    """When the member says the upload is done: None if `count` files suffice, else why not."""
    if count < field.min_count:
        return f"本项至少需要上传{field.min_count}个文件，您已上传{count}个，请继续发送。"
    return None


# --- display -----------------------------------------------------------------------------------


def display(field: FormField, value: Any, *, masked: bool = False) -> str:
    """An answer as text for the summary (masked=False) or a staff card (masked=True)."""
    if value is None:
        return "（未填写）"
    match field.type:
        case FieldType.UPLOAD:
            count = len(value) if isinstance(value, list | tuple) else int(value)
            return f"{count} 个文件"
        case FieldType.YESNO:
            return "是" if value else "否"
        case FieldType.MULTI:
            return "、".join(str(item) for item in value)
        case FieldType.NUMBER:
            return f"{_format_number(float(value))}{field.unit}"
        case FieldType.DATE:
            return _format_date(str(value))
        case FieldType.ID_NUMBER:
            return mask_id_number(str(value)) if masked else str(value)
        case FieldType.PHONE:
            return mask_phone(str(value)) if masked else format_phone(str(value))
        case FieldType.CARD_NUMBER:
            return mask_card_number(str(value)) if masked else str(value)
    # Free text: a number typed into it (a phone, an ID) is masked too.
    return mask_numbers(str(value)) if masked else str(value)


def mask_card_number(value: str) -> str:
    """6217 **** **** 1234: the bank and the last four digits only."""
    return f"{value[:4]} **** **** {value[-4:]}" if len(value) > 8 else "****"


def _format_date(iso: str) -> str:
    try:
        value = date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{value.year}年{value.month}月{value.day}日"


def mask_id_number(value: str) -> str:
    """120102198506151234 → 120***********1234: first 3 and last 4 kept."""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def _split_phone(value: str) -> tuple[str, str] | None:
    """(area code with 0, subscriber number) for a landline, ("", number) for a mobile."""
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        return None
    national = str(number.national_number)
    if number.country_code != 86:
        return None
    if national.startswith("1") and len(national) == 11:
        return "", national
    area = phonenumbers.length_of_geographical_area_code(number)
    if area == 0:
        return None
    return "0" + national[:area], national[area:]


def format_phone(value: str) -> str:
    """E.164 → how people write it here: 13900001234, 022-24316932 (转801)."""
    value, mark, extension = value.partition(EXTENSION_MARK)
    parts = _split_phone(value)
    if parts is None:
        return value + mark + extension
    area, subscriber = parts
    return (f"{area}-{subscriber}" if area else subscriber) + mark + extension


def mask_phone(value: str) -> str:
    """Mobile 139****1234; landline keeps the area code and the last 2 digits: 022-******32."""
    value = value.partition(EXTENSION_MARK)[0]
    parts = _split_phone(value)
    if parts is None:
        digits = re.sub(r"\D", "", value)
        return (
            digits[:3] + "*" * max(len(digits) - 5, 0) + digits[-2:]
            if len(digits) > 5
            else "*" * len(digits)
        )
    area, subscriber = parts
    if not area:
        return subscriber[:3] + "****" + subscriber[-4:]
    return f"{area}-" + "*" * (len(subscriber) - 2) + subscriber[-2:]


# Seven or more digits, written together or in groups (139 0000 1234, 1390-000-1234), with an
# ID number's final X: a phone, ID, bank card or account number in a member's own words.
_LONG_NUMBER = re.compile(
    r"(?<![0-9０-９])[0-9０-９](?:[ \-－]?[0-9０-９]){6,}(?:[ \-－]?[Xx])?(?![0-9０-９])"
)


def mask_numbers(text: str) -> str:
    """Free text for a staff chat: every long number masked, its first 3 and last 2 kept."""

    def hide(match: re.Match[str]) -> str:
        digits = re.sub(r"[ \-－]", "", match.group())
        return digits[:3] + "*" * (len(digits) - 5) + digits[-2:]

    return _LONG_NUMBER.sub(hide, text)
