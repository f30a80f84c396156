"""How a case looks to staff: its card with the buttons for what can be done now, the
pickers behind 转派 and 改派, its history, and the digests that list cases.

Rendered from the case as it is, so that an edit of the card always shows the current status,
caseworker and deadline. No Telegram here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from bot import texts
from bot.consultations import CARD_QUESTION_LIMIT, shorten
from bot.replies import Button, Reply, callback_number, contact_lines, escape, union_contacts
from bot.settings import Settings
from bot.workdays import CHINA, WorkCalendar
from knowledge.catalogue import Catalogue
from knowledge.forms import Form, display, mask_numbers
from storage.models import (
    FINAL_STATUSES,
    Actor,
    Attachment,
    Case,
    CaseEvent,
    CaseKind,
    CaseStatus,
    utcnow,
)
from storage.staff import roster

CB = "sc"  # staff card buttons: sc:<case id>:<act>[:<argument>]
GENERAL_KEY = "g"  # the general staff chat in the 转派 picker
MESSAGE_LIMIT = 3800  # what the bot writes in one message, under Telegram's 4,096
HISTORY_LIMIT = 40  # events shown by /case: the newest, each text cut to HISTORY_TEXT
HISTORY_TEXT = 60
CAPTION_SHOWN = 800  # of a member's caption, under Telegram's 1,024 for a caption
# A file's extension by the type its bytes showed when it arrived.
FILE_EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}
S = CaseStatus
_e = escape


class Act(StrEnum):
    """What staff do to a case (the card's buttons)."""

    ACCEPT = "accept"
    TRANSFER = "transfer"
    REASSIGN = "reassign"
    MORE = "more"
    DONE = "done"
    REJECT = "reject"
    NOTE = "note"
    CLOSE = "close"
    MATERIALS = "materials"
    FULL = "full"
    OPEN = "open"  # post the card of a case listed in a digest
    BACK = "back"  # the card's own buttons again, after a picker


class Refusal(Exception):
    """A staff or member action that may not happen; `text` says why, to whoever tried."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def status_label(case: Case) -> str:
    return texts.CASE_STATUS.get(case.status.value, case.status.value)


def local_date(moment: datetime) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d")


def local_minute(moment: datetime) -> str:
    return moment.astimezone(CHINA).strftime("%m-%d %H:%M")


class CaseViews:
    """The case as staff see it; Casework (bot/casework.py) adds what they do to it."""

    def __init__(
        self,
        *,
        settings: Settings,
        catalogue: Catalogue,
        forms: Mapping[str, Form],
        calendar: WorkCalendar,
    ) -> None:
        self.settings = settings
        self.catalogue = catalogue
        self.forms = dict(forms)
        self.calendar = calendar
        self.departments = catalogue.departments()

    def attachment_count(self, session: Session, case: Case) -> int:
        return len(session.exec(select(Attachment.id).where(Attachment.case_id == case.id)).all())

    def attachment_caption(
        self, case: Case, attachment: Attachment, index: int, total: int
    ) -> str:
        form = self.forms.get(case.form_id or "")
        labels = {f.id: f.label for f in form.fields} if form else {}
        label = labels.get(attachment.field_id, texts.SUPPLEMENT_LABEL)
        caption = texts.STAFF_PRIVATE_ATTACHMENT.format(
            number=case.number, index=index, total=total, label=_e(label)
        )
        if attachment.caption:  # full, not masked: this goes to the staffer privately
            said = _e(attachment.caption[:CAPTION_SHOWN])
            caption += "\n" + texts.STAFF_FILE_CAPTION.format(caption=said)
        return caption

    def attachment_name(self, case: Case, attachment: Attachment, index: int) -> str:
        """The name staff receive a file under, never the sender's own (证件.pdf.exe):
        HD-2026-000123-身份证照片-1.jpg."""
        form = self.forms.get(case.form_id or "")
        labels = {f.id: f.label for f in form.fields} if form else {}
        label = labels.get(attachment.field_id, texts.SUPPLEMENT_LABEL)
        label = re.sub(r"[\\/:*?\"<>|\s]+", "", label) or texts.SUPPLEMENT_LABEL
        extension = FILE_EXTENSIONS.get(attachment.mime_type or "", "")
        return f"{case.number}-{label}-{index}{extension}"

    def render_card(self, session: Session, case: Case, chat_id: int) -> Reply:
        """The case as its staff chat sees it: status, caseworker, deadline, masked content,
        and the buttons for what can be done now. In a chat the case has left: where it went."""
        if chat_id != case.staff_chat_id:
            return Reply(
                texts.CARD_MOVED.format(
                    number=case.number,
                    department=_e(case.department or texts.UNKNOWN_DEPARTMENT),
                )
            )
        names = {s.telegram_id: s.name for s in roster(session=session)}
        attachments = self.attachment_count(session, case)
        lines = [
            texts.CARD_HEAD.format(
                kind=texts.CASE_KIND[case.kind.value],
                number=case.number,
                status=status_label(case),
            ),
            self._card_title(case),
            texts.CARD_DEPARTMENT.format(department=self._department(case)),
            texts.CARD_MEMBER.format(member=_e(case.member_label or "")),
        ]
        if case.assignee_telegram_id is not None:
            name = names.get(case.assignee_telegram_id, str(case.assignee_telegram_id))
            lines.append(texts.CARD_ASSIGNEE.format(name=_e(name)))
        elif case.status is S.OPEN:
            lines.append(texts.CARD_UNASSIGNED)
        if case.status in FINAL_STATUSES and case.closed_at is not None:
            lines.append(texts.CARD_CLOSED_AT.format(when=local_minute(case.closed_at)))
        elif case.due_at is not None:
            lines.append(self._due_line(case, utcnow()))
        if case.rating is not None:
            rating = texts.RATING_LABELS[case.rating.value]
            lines.append(
                texts.CARD_RATING_COMMENT.format(
                    rating=rating, comment=_e(mask_numbers(case.rating_comment))
                )
                if case.rating_comment
                else texts.CARD_RATING.format(rating=rating)
            )
        lines.append("")
        if case.kind is CaseKind.CONSULTATION:
            lines.append(
                texts.CARD_QUESTION.format(
                    question=shorten(mask_numbers(case.subject), CARD_QUESTION_LIMIT)
                )
            )
        else:
            lines.append(self._answer_lines(case, masked=True))
        lines.append("")
        lines.append(
            texts.CARD_ATTACHMENTS.format(count=attachments)
            if attachments
            else texts.CARD_NO_ATTACHMENTS
        )
        if case.status not in FINAL_STATUSES:
            lines.append(texts.CARD_HOW_TO_REPLY)
        return Reply("\n".join(lines), self.card_buttons(case, attachments))

    def card_buttons(self, case: Case, attachments: int) -> tuple[tuple[Button, ...], ...]:
        def button(label: str, act: Act) -> Button:
            return Button(label, f"{CB}:{case.id}:{act.value}")

        rows: list[tuple[Button, ...]] = []
        status = case.status
        if status is S.OPEN:
            rows.append((button(texts.BUTTON_ACCEPT, Act.ACCEPT),))
        elif status in (S.ACCEPTED, S.IN_PROGRESS) and case.kind is CaseKind.APPLICATION:
            rows.append(
                (
                    button(texts.BUTTON_MORE, Act.MORE),
                    button(texts.BUTTON_DONE, Act.DONE),
                    button(texts.BUTTON_REJECT, Act.REJECT),
                )
            )
        elif status in (S.ACCEPTED, S.IN_PROGRESS):
            rows.append((button(texts.BUTTON_DONE, Act.DONE),))
        elif status is S.WAITING_MEMBER:
            rows.append(
                (button(texts.BUTTON_DONE, Act.DONE), button(texts.BUTTON_REJECT, Act.REJECT))
            )
        if status not in FINAL_STATUSES:
            rows.append(
                (
                    button(texts.BUTTON_TRANSFER, Act.TRANSFER),
                    button(texts.BUTTON_REASSIGN, Act.REASSIGN),
                )
            )
        views = [button(texts.BUTTON_FULL, Act.FULL)]
        if attachments:
            views.insert(0, button(f"{texts.BUTTON_MATERIALS}（{attachments}）", Act.MATERIALS))
        rows.append((*views, button(texts.BUTTON_NOTE, Act.NOTE)))
        return tuple(rows)

    def department_picker(self, case: Case) -> tuple[tuple[Button, ...], ...]:
        rows = [
            (Button(name, f"{CB}:{case.id}:{Act.TRANSFER.value}:{key}"),)
            for key, name in self.pickable_departments(case)
        ]
        rows.append((Button(texts.BUTTON_CANCEL_PICK, f"{CB}:{case.id}:{Act.BACK.value}"),))
        return tuple(rows)

    def person_picker(self, session: Session, case: Case) -> tuple[tuple[Button, ...], ...]:
        people = [
            s
            for s in roster(session=session, department=case.department)
            if s.telegram_id != case.assignee_telegram_id
        ]
        if not people:
            raise Refusal(
                texts.STAFF_NO_ONE_TO_PICK.format(
                    department=_e(case.department or texts.UNKNOWN_DEPARTMENT)
                )
            )
        rows = [
            (Button(s.name, f"{CB}:{case.id}:{Act.REASSIGN.value}:{s.id}"),) for s in people[:30]
        ]
        rows.append((Button(texts.BUTTON_CANCEL_PICK, f"{CB}:{case.id}:{Act.BACK.value}"),))
        return tuple(rows)

    def pickable_departments(self, case: Case) -> list[tuple[str, str]]:
        """Where a case can be sent: (callback key, name); key g is the general staff chat.
        By position: a department's name is editable data and could outgrow 64 bytes."""
        choices = [(str(i), d) for i, d in enumerate(self.departments) if d != case.department]
        if case.department is not None:
            choices.append((GENERAL_KEY, texts.BUTTON_GENERAL_CHAT))
        return choices

    def department_at(self, key: str) -> str | None:
        """The department a picker's key names (None: the general chat), or a Refusal."""
        if key == GENERAL_KEY:
            return None
        index = callback_number(key)
        if index is not None and index < len(self.departments):
            return self.departments[index]
        raise Refusal(texts.BUTTON_EXPIRED)

    def history(self, session: Session, case: Case) -> str:
        """The case's record for staff: who did what, when (member texts masked)."""
        events = session.exec(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.id))
        ).all()
        lines = [texts.STAFF_HISTORY_HEAD.format(number=case.number)]
        shown = [e for e in events if e.action != "listed"]
        if len(shown) > HISTORY_LIMIT:
            lines.append(texts.STAFF_HISTORY_EARLIER.format(count=len(shown) - HISTORY_LIMIT))
        for event in shown[-HISTORY_LIMIT:]:
            detail = event.detail or {}
            template = texts.STAFF_HISTORY_ACTIONS.get(event.action, event.action)
            what = template.format(
                text=_e(mask_numbers(str(detail.get("text") or ""))[:HISTORY_TEXT]),
                department=_e(detail.get("department") or ""),
                assignee=_e(detail.get("assignee") or ""),
                rating=texts.RATING_LABELS.get(str(detail.get("rating")), ""),
            )
            who = {
                Actor.MEMBER: texts.STAFF_WHO_MEMBER,
                Actor.BOT: texts.STAFF_WHO_BOT,
            }.get(event.actor) or _e(detail.get("by") or texts.STAFF_SOMEONE)
            lines.append(
                texts.STAFF_HISTORY_LINE.format(when=local_minute(event.at), who=who, what=what)
            )
        return "\n".join(lines)[:MESSAGE_LIMIT]

    def digest(self, session: Session, chat_id: int, chat_name: str, now: datetime) -> Reply:
        """The morning digest of a staff chat: overdue cases, cases due within one working
        day, cases not accepted for too long, and new cases whose cards wait (a burst)."""
        cases = self._open_cases(session, chat_id)
        overdue = [c for c in cases if c.due_at is not None and now > c.due_at]
        due_soon = [
            c
            for c in cases
            if c not in overdue
            and c.due_at is not None
            and self.calendar.workdays_left(now, c.due_at) <= 1
        ]
        hours = self.settings.unaccepted_alert_hours
        unaccepted = [
            c
            for c in cases
            if c.status is S.OPEN and self.calendar.working_hours(c.created_at, now) >= hours
        ]
        held = [c for c in cases if c.card_held]
        lines = [texts.DIGEST_HEAD.format(chat=_e(chat_name), date=local_date(now))]
        sections = (
            (texts.DIGEST_OVERDUE, overdue),
            (texts.DIGEST_DUE_SOON, due_soon),
            (texts.DIGEST_UNACCEPTED, unaccepted),
            (texts.DIGEST_HELD, held),
        )
        for heading, listed in sections:
            if listed:
                lines += ["", heading.format(count=len(listed), hours=f"{hours:g}")]
                lines += self._digest_lines(listed)
        if len(lines) == 1:
            lines += ["", texts.DIGEST_NOTHING]
        for case in held:
            self._listed(session, case)
        return Reply("\n".join(lines), self._open_buttons(held))

    def held_digest(self, session: Session, chat_id: int, chat_name: str) -> Reply | None:
        """New cases whose cards wait and that no digest has listed yet; None if there are none."""
        listed = set(
            session.exec(select(CaseEvent.case_id).where(CaseEvent.action == "listed")).all()
        )
        fresh = [
            c for c in self._open_cases(session, chat_id) if c.card_held and c.id not in listed
        ]
        if not fresh:
            return None
        for case in fresh:
            self._listed(session, case)
        lines = [texts.HELD_HEAD.format(chat=_e(chat_name), count=len(fresh))]
        return Reply("\n".join(lines + self._digest_lines(fresh)), self._open_buttons(fresh))

    @staticmethod
    def _open_cases(session: Session, chat_id: int) -> list[Case]:
        return list(
            session.exec(
                select(Case)
                .where(Case.staff_chat_id == chat_id)
                .where(col(Case.status).not_in(FINAL_STATUSES))
                .order_by(col(Case.due_at), col(Case.id))
            ).all()
        )

    def _digest_lines(self, cases: Sequence[Case], limit: int = 15) -> list[str]:
        lines = [
            texts.DIGEST_LINE.format(
                number=c.number,
                title=self._short_title(c),
                status=status_label(c),
                due=texts.DIGEST_DUE.format(date=local_date(c.due_at)) if c.due_at else "",
            )
            for c in cases[:limit]
        ]
        if len(cases) > limit:
            lines.append(texts.DIGEST_MORE.format(count=len(cases) - limit))
        return lines

    def _short_title(self, case: Case) -> str:
        form = self.forms.get(case.form_id or "")
        if form is not None:
            return _e(form.title)
        return _e(texts.CASE_KIND[case.kind.value])

    @staticmethod
    def _open_buttons(cases: Sequence[Case], limit: int = 20) -> tuple[tuple[Button, ...], ...]:
        return tuple(
            (
                Button(
                    texts.BUTTON_OPEN_CARD.format(number=c.number), f"{CB}:{c.id}:{Act.OPEN.value}"
                ),
            )
            for c in cases[:limit]
        )

    @staticmethod
    def _listed(session: Session, case: Case) -> None:
        assert case.id is not None
        session.add(CaseEvent(case_id=case.id, actor=Actor.BOT, action="listed"))

    def _title(self, case: Case) -> str:
        form = self.forms.get(case.form_id or "")
        if form is not None:
            return texts.CASE_TITLE_APPLICATION.format(title=_e(form.title))
        return texts.CASE_TITLE_CONSULTATION

    def _card_title(self, case: Case) -> str:
        duty = self.catalogue.get(case.duty_id) if case.duty_id else None
        form = self.forms.get(case.form_id or "")
        if form is not None:
            return texts.CARD_TITLE_APPLICATION.format(title=_e(form.title), duty=_e(form.duty))
        return texts.CARD_TITLE_CONSULTATION.format(
            duty=_e(f"{duty.id} {duty.name}") if duty else texts.STAFF_CARD_UNKNOWN_DUTY
        )

    @staticmethod
    def _department(case: Case) -> str:
        return _e(case.department or texts.UNION_SHORT)

    def _contacts(self, case: Case) -> str:
        duty = self.catalogue.get(case.duty_id) if case.duty_id else None
        if duty is None:
            return union_contacts(self.catalogue)
        return "\n".join(contact_lines(duty.contact))

    def _due_text(self, case: Case) -> str:
        return local_date(case.due_at) if case.due_at else "—"

    def _due_line(self, case: Case, now: datetime) -> str:
        """The deadline as a date (a card is not re-rendered every day, so no countdown);
        overdue when it is rendered after it."""
        assert case.due_at is not None
        if now > case.due_at:
            days = max(-self.calendar.workdays_left(now, case.due_at), 1)
            return texts.CARD_OVERDUE.format(date=local_date(case.due_at), days=days)
        if case.status is S.WAITING_MEMBER:
            return texts.CARD_DUE_PAUSED.format(date=local_date(case.due_at))
        return texts.CARD_DUE.format(date=local_date(case.due_at), days=self.time_limit(case))

    @staticmethod
    def _anonymous(case: Case) -> bool:
        return bool((case.answers or {}).get("anonymous") is True)

    def _answer_lines(self, case: Case, *, masked: bool) -> str:
        if case.kind is CaseKind.CONSULTATION:
            return _e(case.subject if not masked else mask_numbers(case.subject))
        form = self.forms.get(case.form_id or "")
        answers = case.answers or {}
        if form is None or not answers:
            return texts.CARD_PURGED
        return "\n".join(
            f"{_e(field.label)}：{_e(display(field, answers[field.id], masked=masked))}"
            for field in form.visible_fields(answers)
            if field.id in answers
        )

    def time_limit(self, case: Case) -> int:
        form = self.forms.get(case.form_id or "")
        return form.time_limit_days if form else self.settings.consultation_time_limit_days
