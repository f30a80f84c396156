"""Replies rendered from the catalogue: HTML text plus buttons, and the callback data they carry.

The bot layer's presentation of what `knowledge/` knows: every catalogue string goes through
`html.escape`; the handlers turn `Reply.buttons` into an inline keyboard. Callback data stays
far below the Bot API's 64 bytes.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot import texts
from knowledge.catalogue import Aspect, Catalogue, Contact, Duty
from knowledge.faq import ASK_GAP, PLACEHOLDER, Faq, FaqEntry
from knowledge.forms import FieldType, Form
from knowledge.router import Route, RouteKind

ASPECT_ORDER = (
    Aspect.PROCESS,
    Aspect.MATERIALS,
    Aspect.BASIS,
    Aspect.DEPARTMENT,
    Aspect.CONTACT,
)


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()


def inline_keyboard(buttons: Sequence[Sequence[Button]]) -> dict[str, Any]:
    """The Bot API's InlineKeyboardMarkup as JSON, for messages that wait in the outbox."""
    return {
        "inline_keyboard": [
            [{"text": b.label, "callback_data": b.data} for b in row] for row in buttons
        ]
    }


# What shows a typed text is a question, not an answer (a long description may say 怎么 …).
QUESTION_END = re.compile(r"[?？]+$|[吗呢么嘛][?？!！。.]*$")
QUESTION_WORDS = re.compile(
    r"怎么|怎样|如何|咋|多久|多长时间|多少钱|什么时候|啥时候|为什么|为啥|能不能|可不可以|"
    r"可以吗|是不是|要不要|在哪|哪里|哪儿|想问|请问|问一下"
)
SHORT_QUESTION = 24  # characters: a longer text with 怎么 in it is a description, not a question
# A message this short that names nothing and asks nothing (a name, 是的 with no form open) is
# not a question outside the union's business: the member is asked what they need. Any
# question word makes it a question (食堂几点开 is the canteen's business).
BARE_WORDS = 8
QUESTION_MARKS = re.compile(r"[?？吗呢么嘛几谁啥哪咋怎]|什么|多少")


def asks_something(text: str) -> bool:
    """The text ends like a question, or it is short and asks how, when, where …"""
    stripped = text.strip()
    if QUESTION_END.search(stripped):
        return True
    return len(stripped) <= SHORT_QUESTION and bool(QUESTION_WORDS.search(stripped))


def asks_about_nothing_said(route: Route) -> bool:
    """可以吗 or 不需要盖章吗 with nothing before it: a question about something the bot
    cannot see, never an acknowledgement to answer 好的."""
    return (
        route.kind is RouteKind.SMALLTALK
        and route.topic == "ack"
        and asks_something(route.question)
    )


class MissKind(StrEnum):
    UNSURE = "unsure"
    OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True, slots=True)
class Answer:
    """What the bot says to a question, and whether the question was one it could not settle."""

    reply: Reply
    miss: MissKind | None = None
    guess: str | None = None


# ------------------------------------------------------------------ callback data
# menu | area:<id> | duty:<id>[:<aspect>] | dept:<department> | none | human[:<duty>] | end


def callback_number(text: str) -> int | None:
    """A number from callback data, which anyone can forge: ASCII digits, and small."""
    return int(text) if re.fullmatch(r"[0-9]{1,9}", text) else None


def cb_duty(duty_id: str, aspect: Aspect = Aspect.OVERVIEW) -> str:
    return f"duty:{duty_id}:{aspect.value}"


def cb_area(area_id: str) -> str:
    return f"area:{area_id}"


CB_MENU = "menu"
CB_NONE = "none"
CB_HUMAN = "human"
CB_END = "end"
CB_FAQ = "faq"


def cb_human(duty_id: str | None) -> str:
    return f"{CB_HUMAN}:{duty_id}" if duty_id else CB_HUMAN


def cb_department(catalogue: Catalogue, department: str) -> str:
    # By position: a department's name is editable data and could outgrow 64 bytes.
    return f"dept:{catalogue.departments().index(department)}"


def department_of(catalogue: Catalogue, data: str) -> str | None:
    departments = catalogue.departments()
    index = callback_number(data)
    return departments[index] if index is not None and index < len(departments) else None


# ------------------------------------------------------------------ rendering helpers


def escape(value: object) -> str:
    """Any catalogue, form or member string, for Telegram's HTML parse mode."""
    return html.escape(str(value), quote=False)


_e = escape


def _numbered(items: Iterable[str]) -> list[str]:
    return [f"{number}. {_e(item)}" for number, item in enumerate(items, 1)]


def _bullets(items: Iterable[str]) -> list[str]:
    return [f"• {_e(item)}" for item in items]


def contact_lines(contact: Contact) -> list[str]:
    # Plain text: Telegram links phone numbers and e-mail addresses itself; <a href="tel:">
    # is not a link the Bot API accepts.
    lines = []
    if contact.phone:
        lines.append(texts.PHONE_LINE.format(phone=_e(contact.phone)))
    if contact.email:
        lines.append(texts.EMAIL_LINE.format(email=_e(contact.email)))
    if contact.address:
        lines.append(texts.ADDRESS_LINE.format(address=_e(contact.address)))
    return lines


def _missing(what: str) -> str:
    return texts.NOT_IN_CATALOGUE.format(what=what)


# ------------------------------------------------------------------ what the forms say

Forms = Sequence[Form]


def _forms_of(forms: Forms, duty: Duty) -> list[Form]:
    return [form for form in forms if form.duty == duty.id]


def form_materials(form: Form) -> list[str]:
    """What the online form asks, as a member reads it: what to fill in, what to upload."""
    filled, uploads = [], []
    for field in form.fields:
        if field.must_be is not None or field.id == "anonymous":
            continue  # a yes/no gate or a choice of anonymity, not something to bring
        note = texts.MATERIAL_IF if field.when is not None else ""
        note = texts.MATERIAL_OPTIONAL if field.optional else note
        if field.type is FieldType.UPLOAD:
            count = (
                texts.MATERIAL_COUNT_RANGE.format(low=field.min_count, high=field.max_count)
                if field.min_count and field.max_count > field.min_count
                else texts.MATERIAL_COUNT_MAX.format(high=field.max_count)
            )
            uploads.append(f"{field.label}（{count}{note}）")
        else:
            filled.append(field.label + (f"（{note}）" if note else ""))
    lines = []
    if filled:
        lines.append(texts.MATERIALS_FILL.format(fields=_e("、".join(filled))))
    if uploads:
        lines.append(texts.MATERIALS_UPLOAD.format(files=_e("；".join(uploads))))
    return lines


def form_eligibility(form: Form) -> list[str]:
    """Who may file the form: the help text of each of its yes/no gates (must_be)."""
    return [_e(field.help or field.prompt) for field in form.fields if field.must_be is not None]


def eligibility_lines(duty: Duty, forms: Forms) -> list[str]:
    """办理条件 of each online form of the duty, one line per condition."""
    return [
        texts.ELIGIBILITY_LINE.format(rule=rule)
        for form in _forms_of(forms, duty)
        for rule in form_eligibility(form)
    ]


def how_to_apply(duty: Duty, forms: Forms) -> list[str]:
    """What the member does for a duty with an online form, and what happens after."""
    lines = []
    for form in _forms_of(forms, duty):
        lines.append(
            texts.HOW_TO_APPLY_ONLINE.format(
                title=_e(form.title), button=_e(texts.BUTTON_APPLY.format(button=form.button))
            )
        )
        after = form.next_steps.replace("{department}", duty.department)
        lines.append(texts.HOW_TO_APPLY_AFTER.format(next_steps=_e(after)))
    return [texts.HOW_TO_APPLY_HEADING, *lines] if lines else []


def _section(duty: Duty, aspect: Aspect, forms: Forms = ()) -> list[str]:
    if aspect is Aspect.PROCESS:
        member = how_to_apply(duty, forms)
        lines = [*member, *([""] if member else []), texts.PROCESS_HEADING]
        if member and duty.steps:
            lines.append(texts.PROCESS_INTERNAL_NOTE)
        for procedure in duty.procedures:
            if procedure.title and len(duty.procedures) > 1:
                lines.append(f"<i>{_e(procedure.title)}</i>")
            lines.extend(_numbered(procedure.steps))
        return lines if duty.steps else [*lines, _missing("办理流程")]
    if aspect is Aspect.MATERIALS:
        # The online forms' own fields: the answer can never disagree with what they ask.
        online = [
            line
            for form in _forms_of(forms, duty)
            for line in (
                texts.MATERIALS_ONLINE.format(title=_e(form.title)),
                *form_materials(form),
            )
        ]
        listed = _bullets(duty.materials)
        return [texts.MATERIALS_HEADING, *(listed + online or [_missing("所需材料")])]
    if aspect is Aspect.BASIS:
        # 退休了按规定还能办卡吗 asks the rule a member meets: the online forms' conditions.
        rules = eligibility_lines(duty, forms)
        return [
            texts.BASIS_HEADING,
            *(_bullets(duty.basis) or [_missing("法定依据")]),
            *([""] if rules else []),
            *rules,
        ]
    if aspect is Aspect.DEPARTMENT:
        lines = [texts.DEPARTMENT_LINE.format(department=_e(duty.department or "—"))]
        if duty.boundary:
            lines.append(texts.BOUNDARY_LINE.format(boundary=_e(duty.boundary)))
        return [*lines, *contact_lines(duty.contact)]
    if aspect is Aspect.CONTACT:
        return [texts.CONTACT_HEADING, *(contact_lines(duty.contact) or [_missing("联系方式")])]
    return []


def duty_text(duty: Duty, aspect: Aspect, forms: Forms = ()) -> str:
    parts = [texts.DUTY_HEADING.format(name=_e(duty.name))]
    if aspect is Aspect.OVERVIEW:
        parts.append(texts.DEPARTMENT_LINE.format(department=_e(duty.department or "—")))
        parts += eligibility_lines(duty, forms)
        # A member reads what they do; the union's own steps are one button away (办理流程).
        member = how_to_apply(duty, forms)
        for section in (Aspect.PROCESS, Aspect.MATERIALS, Aspect.CONTACT):
            parts.append("")
            parts.extend(member if section is Aspect.PROCESS and member else [])
            if not (section is Aspect.PROCESS and member):
                parts.extend(_section(duty, section, forms))
    else:
        parts.extend(_section(duty, aspect, forms))
    return "\n".join(parts)


def _aspect_buttons(duty: Duty, shown: Aspect) -> list[tuple[Button, ...]]:
    others = [
        Button(texts.ASPECT_LABELS[a.value], cb_duty(duty.id, a))
        for a in ASPECT_ORDER
        if a is not shown and not (shown is Aspect.OVERVIEW and a is Aspect.CONTACT)
    ]
    rows = [tuple(others[i : i + 3]) for i in range(0, len(others), 3)]
    return rows


# ------------------------------------------------------------------ replies


# A form that can be filed online for a duty: (its button label, its id).
ApplyLinks = Mapping[str, Sequence[tuple[str, str]]]


def duty_reply(
    catalogue: Catalogue,
    duty_id: str,
    aspect: Aspect,
    *,
    apply: ApplyLinks | None = None,
    forms: Forms = (),
) -> Reply:
    duty = catalogue.duty(duty_id)
    return Reply(duty_text(duty, aspect, forms), _duty_rows(duty, aspect, apply))


def _duty_rows(
    duty: Duty, shown: Aspect, apply: ApplyLinks | None
) -> tuple[tuple[Button, ...], ...]:
    """Under a duty's answer: its other aspects, its online forms, 转人工 and the menu."""
    rows = _aspect_buttons(duty, shown)
    for label, form_id in (apply or {}).get(duty.id, ()):
        rows.append((Button(texts.BUTTON_APPLY.format(button=label), f"apply:{form_id}"),))
    rows.append(
        (
            Button(texts.BUTTON_HUMAN, cb_human(duty.id)),
            Button(texts.BUTTON_MENU, cb_area(duty.area_id)),
        )
    )
    return tuple(rows)


# 多久, 几天, 什么时候能…: how long it takes. The duty list publishes no time for any duty, so
# the answer says so and whom to ask, never a time of its own.
HOW_LONG = re.compile(
    r"多久|多长时间|多少时间|要等多|等多长|多会儿|"
    r"(?:几天|几个工作日|几个月|几周)(?:能|可以|才|就|会)?"
    r"(?:办好|办完|办下来|批|下来|拿到|有结果|出结果|审完|审好|到手|答复|回复|回音)|"
    r"(?:什么|啥|嘛)时候(?:能|可以|才|会)?"
    r"(?:办好|办完|办下来|批|下来|拿到|有结果|出结果|公布|审完|到手|答复|回复|发卡)"
)
# 工作多久能申请, 干了多长时间才能评: how long one must have worked, a rule of eligibility,
# not how long the union takes.
WAIT_TO_QUALIFY = re.compile(
    r"(?:多久|多长时间|几年|几个月)(?:以后|之后|后)?(?:才|就)?(?:能|可以)"
    r"(?:申请|评|参加|入会|加入|享受|领)"
)


def asks_how_long(route: Route) -> bool:
    question = route.question
    return (
        route.aspect in (Aspect.PROCESS, Aspect.OVERVIEW, None)
        and HOW_LONG.search(question) is not None
        and WAIT_TO_QUALIFY.search(question) is None
    )


def timing_lines(duty: Duty, forms: Forms = ()) -> list[str]:
    """How long a duty takes: not published; whom to ask; where an online application's
    progress shows."""
    lines = [
        texts.TIMING_NOT_PUBLISHED.format(
            department=_e(duty.department or texts.UNION_SHORT),
            phone=_e(duty.contact.phone or "—"),
        )
    ]
    if _forms_of(forms, duty):
        lines.append(texts.TIMING_ONLINE)
    return lines


def timing_reply(
    catalogue: Catalogue, duty_id: str, *, apply: ApplyLinks | None = None, forms: Forms = ()
) -> Reply:
    duty = catalogue.duty(duty_id)
    text = "\n".join([texts.DUTY_HEADING.format(name=_e(duty.name)), *timing_lines(duty, forms)])
    return Reply(text, _duty_rows(duty, Aspect.CONTACT, apply))


def menu_root(catalogue: Catalogue) -> Reply:
    rows: list[tuple[Button, ...]] = [
        (Button(f"{area.id}. {area.name}", cb_area(area.id)),) for area in catalogue.areas
    ]
    rows.append(
        tuple(
            Button(department, cb_department(catalogue, department))
            for department in catalogue.departments()
        )
    )
    rows.append((Button(texts.BUTTON_APPLY_MENU, "apply:"), Button(texts.BUTTON_HUMAN, CB_HUMAN)))
    return Reply(texts.MENU_TITLE, tuple(rows))


def menu_root_buttons_only() -> tuple[tuple[Button, ...], ...]:
    """A way on for a message the bot cannot read: browse, apply or ask a person."""
    return (
        (Button(texts.BUTTON_MENU, CB_MENU), Button(texts.BUTTON_APPLY_MENU, "apply:")),
        (Button(texts.BUTTON_HUMAN, CB_HUMAN),),
    )


def menu_area(catalogue: Catalogue, area_id: str) -> Reply | None:
    area = catalogue.area(area_id)
    if area is None:
        return None
    rows: list[tuple[Button, ...]] = [
        (Button(f"{duty.id} {duty.title or duty.name}", cb_duty(duty.id)),)
        for duty in catalogue
        if duty.area_id == area_id
    ]
    rows.append((Button(texts.BUTTON_BACK, CB_MENU),))
    return Reply(texts.AREA_TITLE.format(area=_e(area.name)), tuple(rows))


def department_reply(catalogue: Catalogue, department: str) -> Reply | None:
    duties = catalogue.duties_of_department(department)
    if not duties:
        return None
    lines = [texts.DEPARTMENT_ANSWER.format(department=_e(department))]
    lines.extend(f"• {_e(duty.title or duty.name)}" for duty in duties)
    contacts = dict.fromkeys(duty.contact for duty in duties)
    for contact in contacts:
        lines.append("")
        lines.extend(contact_lines(contact))
    rows: list[tuple[Button, ...]] = [
        (Button(f"{duty.id} {duty.title or duty.name}", cb_duty(duty.id)),) for duty in duties
    ]
    rows.append((Button(texts.BUTTON_HUMAN, CB_HUMAN), Button(texts.BUTTON_BACK, CB_MENU)))
    return Reply("\n".join(lines), tuple(rows))


def union_contacts(catalogue: Catalogue) -> str:
    lines = []
    for department in catalogue.departments():
        phones = dict.fromkeys(
            d.contact.phone for d in catalogue.duties_of_department(department) if d.contact.phone
        )
        if phones:
            lines.append(f"{_e(department)}：{_e('、'.join(phones))}")
    return "\n".join(lines)


def clarify_reply(catalogue: Catalogue, route: Route) -> Reply:
    aspect = route.aspect or Aspect.OVERVIEW
    duties = [catalogue.duty(c.duty) for c in route.candidates]
    if not duties:
        reply = menu_root(catalogue)
        return Reply(texts.CLARIFY_VAGUE, reply.buttons)
    options = "\n".join(f"{n}. {_e(d.title or d.name)}" for n, d in enumerate(duties, 1))
    rows: list[tuple[Button, ...]] = [
        (Button(f"{n}. {d.title or d.name}", cb_duty(d.id, aspect)),)
        for n, d in enumerate(duties, 1)
    ]
    rows.append((Button(texts.BUTTON_NONE, CB_NONE), Button(texts.BUTTON_HUMAN, CB_HUMAN)))
    return Reply(texts.CLARIFY.format(options=options), tuple(rows))


def out_of_scope_reply(catalogue: Catalogue, route: Route, union: str) -> Reply:
    if route.topic and route.refer_to:
        first = texts.OUT_OF_SCOPE.format(topic=_e(route.topic), refer_to=_e(route.refer_to))
    else:
        first = texts.OUT_OF_SCOPE_UNKNOWN
    second = texts.OUT_OF_SCOPE_UNION.format(union=_e(union), contacts=union_contacts(catalogue))
    rows = ((Button(texts.BUTTON_MENU, CB_MENU), Button(texts.BUTTON_HUMAN, CB_HUMAN)),)
    return Reply(f"{first}\n\n{second}", rows)


def smalltalk_reply(intent: str | None, union: str) -> Reply:
    text = texts.SMALLTALK.get(intent or "", texts.SMALLTALK["greeting"])
    return Reply(text.format(union=_e(union)))


def answer(
    catalogue: Catalogue,
    route: Route,
    *,
    confident_score: float,
    union: str,
    apply: ApplyLinks | None = None,
    forms: Forms = (),
    faq: Faq | None = None,
) -> Answer:
    """What to say to a routed question: a curated answer when one fits better, the duty's
    answer, a question back, or a referral."""
    if faq is not None and (entry := curated(faq, route, confident_score)) is not None:
        return Answer(faq_reply(entry, catalogue, forms, related=route.related))
    if route.kind is RouteKind.SMALLTALK:
        if asks_about_nothing_said(route):
            return Answer(Reply(texts.CLARIFY_VAGUE, menu_root(catalogue).buttons))
        return Answer(smalltalk_reply(route.topic, union))
    if route.kind is RouteKind.OUT_OF_SCOPE:
        bare = route.topic is None and len(route.question.strip()) <= BARE_WORDS
        # 办下来要多久？ asks about something not named: which service, not "not ours".
        unnamed = route.topic is None and asks_how_long(route)
        if (bare and not QUESTION_MARKS.search(route.question)) or unnamed:
            # Still a miss: staff see what members type that the bot could not place.
            return Answer(
                Reply(texts.CLARIFY_VAGUE, menu_root(catalogue).buttons), MissKind.UNSURE
            )
        return Answer(
            out_of_scope_reply(catalogue, route, union),
            MissKind.OUT_OF_SCOPE,
        )
    if route.department and (reply := department_reply(catalogue, route.department)):
        return Answer(reply)
    if route.duty is not None and route.is_confident(confident_score):
        if asks_how_long(route):
            return Answer(timing_reply(catalogue, route.duty, apply=apply, forms=forms))
        aspect = route.aspect or Aspect.OVERVIEW
        return Answer(duty_reply(catalogue, route.duty, aspect, apply=apply, forms=forms))
    return Answer(clarify_reply(catalogue, route), MissKind.UNSURE, guess=route.duty)


# ------------------------------------------------------------------ curated answers


LONG_ASK = 4  # characters: an ask phrase this long is specific enough to answer by itself


def curated(faq: Faq, route: Route, confident_score: float) -> FaqEntry | None:
    """The curated answer for this question, when it fits better than the route's own: the
    answer to a labour-dispute topic; or an entry asked for in so many words, about the duty
    the router found (or specific enough, or the router unsure)."""
    if route.kind is RouteKind.OUT_OF_SCOPE and (entry := faq.for_topic(route.topic)):
        return entry
    found = faq.match(route.question)
    if found is None:
        return None
    entry, ask = found
    # A long phrase said as it stands is specific enough on its own; pieces with words
    # between them (能申请*帮扶) only when the router found the same duty, or none.
    specific = len(ask) >= LONG_ASK and ASK_GAP not in ask
    if route.kind is RouteKind.OUT_OF_SCOPE and route.topic:
        return entry if specific else None
    unsure = not route.is_confident(confident_score)
    if unsure or entry.duty in ("", route.duty) or specific:
        return entry
    return None


def faq_text(entry: FaqEntry, catalogue: Catalogue, forms: Forms) -> str:
    """The answer with its placeholders filled from the catalogue and the forms."""
    by_id = {form.id: form for form in forms}

    def fill(match: re.Match[str]) -> str:
        kind, name = match.group(1), match.group(2)
        if kind == "duties":
            return "；".join(_e(d.title or d.name) for d in catalogue.duties_of_department(name))
        if kind in ("phone", "contacts"):
            duties = catalogue.duties_of_department(name)
            contact = duties[0].contact if duties else None
            if contact is None:
                return ""
            if kind == "phone":
                return _e(contact.phone or "")
            return "，".join(contact_lines(contact))
        form = by_id.get(name)
        if form is None:
            return ""
        if kind == "materials":
            return "\n".join(form_materials(form))
        if kind == "eligibility":
            return "\n".join(form_eligibility(form)) or texts.NO_ELIGIBILITY_RULE
        return _e(form.intro)

    escaped = _e(entry.answer)
    return PLACEHOLDER.sub(fill, escaped).strip()


def faq_reply(
    entry: FaqEntry, catalogue: Catalogue, forms: Forms, *, related: Sequence[str] = ()
) -> Reply:
    lines = [faq_text(entry, catalogue, forms)]
    if entry.evidence:
        lines += ["", texts.EVIDENCE_HEADING, *_bullets(entry.evidence)]
    if entry.topic:  # a member's own dispute: what the union can do for them
        department = "权益保障部"
        duties = catalogue.duties_of_department(department)
        phone = duties[0].contact.phone if duties else ""
        lines += ["", texts.UNION_HELPS.format(department=department, phone=_e(phone or "—"))]
    lines += ["", texts.ANSWER_SOURCE.format(source=_e(entry.source))]
    by_id = {form.id: form for form in forms}
    rows: list[tuple[Button, ...]] = []
    wanted = [*entry.buttons, *(f"duty:{duty}" for duty in related)]
    for token in dict.fromkeys(wanted):
        kind, _, value = token.partition(":")
        if kind == "apply" and value in by_id:
            rows.append((Button(texts.BUTTON_APPLY.format(button=by_id[value].button), token),))
        elif kind == "human":
            rows.append((Button(texts.BUTTON_HUMAN, cb_human(value or None)),))
        elif kind == "duty" and (duty := catalogue.get(value)) is not None:
            rows.append(
                (Button(texts.BUTTON_ABOUT.format(title=duty.title or duty.name), cb_duty(value)),)
            )
        elif kind == "mycases":
            rows.append((Button(texts.BUTTON_MYCASES_NOW, "cases"),))
    rows.append((Button(texts.BUTTON_MENU, CB_MENU),))
    return Reply("\n".join(lines), tuple(rows))


def brief_answer(
    catalogue: Catalogue,
    route: Route,
    *,
    confident_score: float,
    union: str,
    forms: Forms = (),
    faq: Faq | None = None,
    form_duty: str | None = None,
) -> str:
    """A short answer to a question asked in the middle of a form: a curated answer, or the
    part of the duty asked about (or whom to ask), so that the form's question can follow.
    A question that names nothing (办下来要多久？) is about the form's own duty."""
    if faq is not None and (entry := curated(faq, route, confident_score)) is not None:
        return faq_text(entry, catalogue, forms)
    # A guess from similar questions names nothing either: the member is in this form.
    unnamed = route.duty is None or route.by_example
    if form_duty is not None and unnamed and not route.topic and asks_how_long(route):
        duty = catalogue.duty(form_duty)
        lines = timing_lines(duty, forms)
        return "\n".join([texts.DUTY_HEADING.format(name=_e(duty.name)), *lines])
    if route.kind is RouteKind.SMALLTALK:
        if asks_about_nothing_said(route):
            return texts.FORM_QUESTION_UNSURE
        return smalltalk_reply(route.topic, union).text
    if route.kind is RouteKind.OUT_OF_SCOPE:
        if route.topic and route.refer_to:
            return texts.OUT_OF_SCOPE.format(topic=_e(route.topic), refer_to=_e(route.refer_to))
        return texts.FORM_QUESTION_UNSURE
    if route.duty is None or not route.is_confident(confident_score):
        return texts.FORM_QUESTION_UNSURE
    duty = catalogue.duty(route.duty)
    aspect = route.aspect or Aspect.OVERVIEW
    if asks_how_long(route):
        lines = timing_lines(duty, forms)
    elif aspect is Aspect.OVERVIEW:
        lines = [texts.DEPARTMENT_LINE.format(department=_e(duty.department or "—"))]
        lines += contact_lines(duty.contact)
    else:
        lines = _section(duty, aspect, forms)
    return "\n".join([texts.DUTY_HEADING.format(name=_e(duty.name)), *lines])
