"""Guided applications: one engine for every form in knowledge/forms, with drafts in the database.

Every step reads the draft from the database and writes it back before the member sees the
next question, so a restart or a second bot process resumes the member where they were.
Callback data carries the draft id and the field, so an old button never changes a newer
draft or a field that is no longer being asked.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot import texts
from bot.casework import Casework
from bot.pacing import BACKGROUND
from bot.replies import SHORT_QUESTION, Button, Reply, asks_something, contact_lines, escape
from bot.retention import Periods
from knowledge.catalogue import Catalogue, Duty
from knowledge.forms import (
    FieldType,
    Form,
    FormField,
    ValidationError,
    cross_field_problem,
    display,
    upload_count_problem,
    validate,
    validate_upload,
)
from storage.cases import active_draft, case_number, enqueue, record_event
from storage.models import (
    ACTIVE_DRAFT_STAGES,
    Actor,
    Attachment,
    Case,
    CaseKind,
    Draft,
    DraftStage,
    Member,
    utcnow,
)

CB = "fm"
CHINA = ZoneInfo("Asia/Shanghai")
PICKED = "__picked__"  # answers[PICKED][field]: options ticked so far on a multiple choice
REPLACING = "__replacing__"  # an upload field being redone from the summary: old files stay
# until the first new one arrives
PROFILE = "__profile__"  # the member's remembered answers, offered as a button
STALE_SLACK = timedelta(seconds=3)
# Free text, where a phone or an ID typed again would pass for the answer (a count or a
# choice given twice in a row is nothing odd).
REPEAT_CHECKED = {FieldType.TEXT, FieldType.LONG_TEXT, FieldType.NAME}
PENDING = "__pending__"  # words that may be an answer or a question: the member says which
INTERNAL = {PICKED, REPLACING, PROFILE, PENDING}
RETRY_ECHO_LIMIT = 300  # a retry message never grows with what the member typed
BACK_WORDS = set(texts.BUTTON_WORDS[texts.BUTTON_PREVIOUS])
CANCEL_WORDS = {"取消", "取消申请", "不填了", "放弃", "放弃申请"}
DONE_WORDS = set(texts.BUTTON_WORDS[texts.BUTTON_DONE_UPLOADING])  # typed at an upload field
_PUNCTUATION = re.compile(r"[\s，,。.！!？?~～、…]+")


def plain(text: str) -> str:
    """Typed words as compared with a button: no spaces or punctuation, lower case."""
    return _PUNCTUATION.sub("", text).lower()


def looks_like_question(text: str, field: FormField | None) -> bool:
    """A question typed while a form asks something: it ends like one, or it is short and
    asks how, when, where … (a long description of hardship may say 不知道怎么办)."""
    stripped = text.strip()
    if field is not None and field.type is FieldType.LONG_TEXT and len(stripped) > SHORT_QUESTION:
        return False
    return asks_something(stripped)


def is_human_request(text: str) -> bool:
    return plain(text) in {plain(word) for word in texts.HUMAN_WORDS}


def privacy_version(form: Form, retention: str) -> str:
    """A short fingerprint of the privacy notice the member agreed to (`retention`: its
    keeping rules as shown, from the settings)."""
    privacy = form.privacy
    text = "\n".join(
        (
            privacy.collected,
            privacy.purpose,
            privacy.recipients,
            retention,
            privacy.sensitive,
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def cb(draft: Draft, action: str, *args: str | int) -> str:
    return ":".join([CB, str(draft.id), action, *(str(a) for a in args)])


_e = escape


def local_time(moment: datetime) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def today() -> date:
    return datetime.now(CHINA).date()


@dataclass(frozen=True, slots=True)
class Outcome:
    reply: Reply
    case: Case | None = None


class Applications:
    """The dialogue rules; the handlers only translate updates into these calls."""

    def __init__(
        self,
        forms: Mapping[str, Form],
        catalogue: Catalogue,
        casework: Casework,
        periods: Periods,
    ) -> None:
        self.forms = dict(forms)
        self.periods = periods
        self.catalogue = catalogue
        self.casework = casework
        # For each duty, the forms a member can file online: (button label, form id).
        self.links: dict[str, list[tuple[str, str]]] = {}
        for form in self.forms.values():
            self.links.setdefault(form.duty, []).append((form.button, form.id))

    # -------------------------------------------------------------- finding drafts

    @staticmethod
    def active_draft(session: Session, member: Member) -> Draft | None:
        return active_draft(session=session, member=member)

    @staticmethod
    def draft_of(session: Session, member: Member, draft_id: int) -> Draft | None:
        """The member's own draft by id, active or not; another member's is None."""
        draft = session.get(Draft, draft_id)
        return draft if draft is not None and draft.member_id == member.id else None

    def form(self, draft: Draft) -> Form:
        return self.forms[draft.form_id]

    # -------------------------------------------------------------- starting

    def menu(self) -> Reply:
        if not self.forms:
            return Reply(texts.APPLY_NONE)
        rows = tuple((Button(form.title, f"apply:{form.id}"),) for form in self.forms.values())
        return Reply(texts.APPLY_MENU, rows)

    def begin(self, session: Session, member: Member, form_id: str) -> Reply | None:
        """Start a form, or offer the one already under way; None for an unknown form."""
        form = self.forms.get(form_id)
        if form is None:
            return None
        if (draft := self.active_draft(session, member)) is not None:
            if draft.form_id == form_id:
                return self.resume_offer(draft)
            return Reply(
                texts.FORM_OTHER_ACTIVE.format(title=_e(self.form(draft).title)),
                (
                    (Button(texts.BUTTON_CONTINUE, cb(draft, "K")),),
                    (Button(texts.BUTTON_DISCARD_AND_START, cb(draft, "N", form_id)),),
                ),
            )
        draft = Draft(member_id=member.id or 0, form_id=form_id)
        if member.profile:
            draft.answers = {PROFILE: dict(member.profile)}
        session.add(draft)
        session.flush()
        return self.privacy(draft)

    def privacy_version(self, form: Form) -> str:
        return privacy_version(form, self.periods.form_retention(form.privacy.retention))

    def privacy(self, draft: Draft) -> Reply:
        form = self.form(draft)
        privacy = form.privacy
        sensitive = (
            texts.FORM_SENSITIVE.format(sensitive=_e(privacy.sensitive))
            if privacy.sensitive
            else ""
        )
        text = texts.FORM_PRIVACY.format(
            title=_e(form.title),
            intro=_e(form.intro),
            collected=_e(privacy.collected),
            purpose=_e(privacy.purpose),
            recipients=_e(privacy.recipients),
            retention=_e(self.periods.form_retention(privacy.retention)),
            sensitive=sensitive,
        )
        buttons = (
            (Button(texts.BUTTON_CONSENT, cb(draft, "ok", self.privacy_version(form))),),
            (Button(texts.BUTTON_NO_CONSENT, cb(draft, "no")),),
        )
        return Reply(text, buttons)

    def resume_offer(self, draft: Draft) -> Reply:
        return Reply(
            texts.FORM_RESUME.format(
                title=_e(self.form(draft).title), when=local_time(draft.updated_at)
            ),
            (
                (Button(texts.BUTTON_CONTINUE, cb(draft, "K")),),
                (Button(texts.BUTTON_DISCARD, cb(draft, "X")),),
                (Button(texts.BUTTON_OTHER_FORMS, "apply:"),),
            ),
        )

    def resume(self, session: Session, draft: Draft) -> Reply:
        """继续填写: the form has the member's attention again (before a consultation)."""
        self._touch(session, draft)
        return self.current(draft)

    def consent(
        self, session: Session, draft: Draft, action: str, shown: str | None = None
    ) -> Reply:
        """The general consent (ok), the separate one to sensitive personal information (sok),
        or neither (no). Each has its own button, and records the notice's version: a second
        tap on the first never gives the second. `shown`: the version the button was shown
        with; a notice changed since is shown again, never agreed to unread."""
        if draft.stage is not DraftStage.CONSENT:
            return self.current(draft)
        form = self.form(draft)
        if action != "no" and shown is not None and shown != self.privacy_version(form):
            notice = self.current(draft)
            return Reply(f"{texts.FORM_NOTICE_UPDATED}\n\n{notice.text}", notice.buttons)
        if action == "no":
            self._end(session, draft, DraftStage.DISCARDED)
            duty = self.catalogue.duty(form.duty)
            return Reply(
                texts.FORM_NO_CONSENT.format(
                    department=_e(duty.department), phone=_e(duty.contact.phone or "—")
                )
            )
        sensitive = bool(form.privacy.sensitive)
        version = self.privacy_version(form)
        if action == "ok" and draft.consented_at is None:
            draft.consented_at, draft.consent_version = utcnow(), version
            if sensitive:
                self._touch(session, draft)
                return self.sensitive_consent(draft)
        elif action == "sok" and sensitive and draft.consented_at is not None:
            draft.sensitive_consented_at, draft.sensitive_consent_version = utcnow(), version
        else:
            return self.current(draft)  # a second tap, or a button of another step
        draft.stage = DraftStage.FILLING
        return self._advance(session, draft)

    def consent_outdated(self, draft: Draft) -> bool:
        """The privacy notice changed since the member agreed to it."""
        form = self.form(draft)
        version = self.privacy_version(form)
        if draft.consented_at is not None and draft.consent_version not in (None, version):
            return True
        return (
            bool(form.privacy.sensitive)
            and draft.sensitive_consented_at is not None
            and draft.sensitive_consent_version not in (None, version)
        )

    def ask_consent_again(self, session: Session, draft: Draft) -> Reply:
        """A changed notice: the answers stay; the member reads it and agrees again."""
        draft.stage = DraftStage.CONSENT
        draft.consented_at = draft.sensitive_consented_at = None
        draft.consent_version = draft.sensitive_consent_version = None
        self._touch(session, draft)
        notice = self.privacy(draft)
        return Reply(f"{texts.FORM_NOTICE_CHANGED}\n\n{notice.text}", notice.buttons)

    def sensitive_consent(self, draft: Draft) -> Reply:
        privacy = self.form(draft).privacy
        return Reply(
            texts.FORM_SENSITIVE_CONSENT.format(sensitive=_e(privacy.sensitive)),
            (
                (
                    Button(
                        texts.BUTTON_SENSITIVE_CONSENT,
                        cb(draft, "sok", self.privacy_version(self.form(draft))),
                    ),
                ),
                (Button(texts.BUTTON_NO_CONSENT, cb(draft, "no")),),
            ),
        )

    # -------------------------------------------------------------- asking

    def current(self, draft: Draft) -> Reply:
        """What the member should see now for this draft."""
        if draft.stage is DraftStage.CONSENT:
            if draft.consented_at is not None and self.form(draft).privacy.sensitive:
                return self.sensitive_consent(draft)
            return self.privacy(draft)
        if draft.stage is DraftStage.REVIEW:
            return self.summary(draft)
        field = self._current_field(draft)
        return self.summary(draft) if field is None else self.ask(draft, field)

    def asked_field(self, draft: Draft) -> FormField | None:
        """The field being asked now, if the form is being filled in."""
        return self._current_field(draft) if draft.stage is DraftStage.FILLING else None

    def _current_field(self, draft: Draft) -> FormField | None:
        form = self.form(draft)
        if draft.current_field is not None:
            try:
                return form.field(draft.current_field)
            except KeyError:
                pass
        return form.next_field(self._answers(draft))

    @staticmethod
    def _answers(draft: Draft) -> dict[str, Any]:
        return {k: v for k, v in draft.answers.items() if k not in INTERNAL}

    @staticmethod
    def _uploaded(draft: Draft, field_id: str) -> list[int]:
        """The attachment ids an upload field holds now; none while it is being redone."""
        if draft.answers.get(REPLACING) == field_id:
            return []
        return list(draft.answers.get(field_id) or [])

    @staticmethod
    def _stop_replacing(draft: Draft) -> None:
        draft.answers = {k: v for k, v in draft.answers.items() if k != REPLACING}

    def ask(self, draft: Draft, field: FormField) -> Reply:
        form = self.form(draft)
        answers = self._answers(draft)
        visible = form.visible_fields(answers)
        number = next((i for i, f in enumerate(visible, 1) if f.id == field.id), len(visible))
        lines = [
            texts.FORM_FIELD.format(number=number, total=len(visible), prompt=_e(field.prompt))
        ]
        if field.help:
            lines.append(texts.FORM_HELP.format(help=_e(field.help)))
        rows: list[tuple[Button, ...]] = []
        if field.type is FieldType.CHOICE:
            lines.append(texts.FORM_CHOICE_HINT)
            rows += [
                (Button(f"{i}. {option}", cb(draft, "o", field.id, i)),)
                for i, option in enumerate(field.options, 1)
            ]
        elif field.type is FieldType.MULTI:
            lines.append(texts.FORM_MULTI_HINT)
            picked = set(self._ticked(draft, field))
            rows += [
                (
                    Button(
                        f"{'✅' if i in picked else '⬜'} {option}",
                        cb(draft, "t", field.id, i),
                    ),
                )
                for i, option in enumerate(field.options, 1)
            ]
            rows.append((Button(texts.BUTTON_DONE_CHOOSING, cb(draft, "d", field.id)),))
        elif field.type is FieldType.YESNO:
            rows.append(
                (
                    Button(texts.BUTTON_YES, cb(draft, "o", field.id, 1)),
                    Button(texts.BUTTON_NO, cb(draft, "o", field.id, 0)),
                )
            )
        elif field.type is FieldType.UPLOAD:
            lines.append(
                texts.FORM_UPLOAD_HINT.format(
                    max_count=field.max_count, max_size=f"{field.max_size_mb:g}"
                )
            )
            if received := len(self._uploaded(draft, field.id)):
                lines.append(texts.FORM_UPLOAD_RECEIVED.format(count=received))
            rows.append((Button(texts.BUTTON_DONE_UPLOADING, cb(draft, "u", field.id)),))
        if field.id in answers and field.type is not FieldType.UPLOAD:
            lines.append(texts.FORM_CURRENT.format(value=_e(display(field, answers[field.id]))))
        navigation = []
        remembered = draft.answers.get(PROFILE, {}).get(field.remember) if field.remember else None
        if remembered and field.id not in answers:
            rows.insert(
                0,
                (
                    Button(
                        texts.BUTTON_USE_PROFILE.format(value=remembered), cb(draft, "p", field.id)
                    ),
                ),
            )
        if field.id in answers and (field.type is not FieldType.UPLOAD or answers[field.id]):
            navigation.append(Button(texts.BUTTON_KEEP, cb(draft, "k", field.id)))
        if form.previous_field(answers, field.id) is not None and not draft.return_to_review:
            navigation.append(Button(texts.BUTTON_PREVIOUS, cb(draft, "b", field.id)))
        if draft.return_to_review:
            navigation.append(Button(texts.BUTTON_BACK_TO_SUMMARY, cb(draft, "R")))
        if field.optional:
            navigation.append(Button(texts.BUTTON_SKIP, cb(draft, "s", field.id)))
        if navigation:
            rows.append(tuple(navigation))
        lines.append(texts.FORM_FOOTER)
        return Reply("\n".join(lines), tuple(rows))

    # -------------------------------------------------------------- typed words

    def typed_button(self, draft: Draft, text: str) -> str | None:
        """The button the member's words name on what they see now (its label, the label
        without its number, or a word of texts.BUTTON_WORDS), as its callback data."""
        word = plain(text)
        if not word:
            return None
        for row in self.current(draft).buttons:
            for button in row:
                label = button.label.lstrip("✅⬜ ")
                names = {plain(label), plain(re.sub(r"^[0-9]+\.\s*", "", label))}
                names.update(plain(w) for w in texts.BUTTON_WORDS.get(button.label, ()))
                if word in names:
                    return button.data
        return None

    def named_field(self, draft: Draft, text: str) -> FormField | None:
        """At the summary, 不对 我要改电话: the field the member wants to change."""
        if draft.stage is not DraftStage.REVIEW or not any(
            word in text for word in texts.CHANGE_WORDS
        ):
            return None
        shown = self.form(draft).visible_fields(self._answers(draft))
        for field in shown:
            names = {field.label, *texts.FIELD_WORDS.get(field.type.value, ())}
            if any(name in text for name in names if len(name) >= 2):
                return field
        return None

    def press_hint(self, draft: Draft) -> Reply:
        """Words that fit no button at a button step: one short line, never the notice again."""
        buttons = self.current(draft).buttons
        labels = "".join(f"「{b.label}」" for row in buttons for b in row[:1])
        first = buttons[0][0].label if buttons else ""
        word = (texts.BUTTON_WORDS.get(first) or (first,))[0]
        return Reply(texts.FORM_PRESS_A_BUTTON.format(labels=labels, word=word), buttons)

    def handoff_offer(self, draft: Draft) -> Reply:
        return Reply(
            texts.FORM_HANDOFF_OFFER.format(title=_e(self.form(draft).title)),
            (
                (Button(texts.BUTTON_HUMAN, "human"),),
                (Button(texts.BUTTON_CONTINUE, cb(draft, "K")),),
            ),
        )

    def resume_button(self, draft: Draft) -> tuple[Button, ...]:
        return (
            Button(texts.BUTTON_RESUME_FORM.format(title=self.form(draft).title), cb(draft, "K")),
        )

    def ask_which(self, session: Session, draft: Draft, text: str) -> Reply:
        """Words that could be the answer or a question: the member says which."""
        field = self._current_field(draft)
        assert field is not None
        draft.answers = {**draft.answers, PENDING: text}
        self._touch(session, draft)
        return Reply(
            texts.FORM_ANSWER_OR_QUESTION.format(text=_e(text[:40]), label=_e(field.label)),
            (
                (
                    Button(
                        texts.BUTTON_IS_ANSWER.format(label=field.label), cb(draft, "y", field.id)
                    ),
                ),
                (Button(texts.BUTTON_IS_QUESTION, cb(draft, "q", field.id)),),
            ),
        )

    def take_pending(self, session: Session, draft: Draft, field_id: str) -> str | None:
        """The words set aside by ask_which, once (None when the button is stale)."""
        if self._asked(draft, field_id) is None or PENDING not in draft.answers:
            return None
        text = str(draft.answers[PENDING])
        draft.answers = {k: v for k, v in draft.answers.items() if k != PENDING}
        self._touch(session, draft)
        return text

    def still_filling(self, draft: Draft, answer: str) -> Reply:
        """An answer to a question asked mid-form, then the form's question again."""
        asked = self.current(draft)
        title = _e(self.form(draft).title)
        return Reply(
            f"{answer}\n\n{texts.FORM_STILL_FILLING.format(title=title)}\n{asked.text}",
            asked.buttons,
        )

    # -------------------------------------------------------------- answering

    def answer_text(self, session: Session, draft: Draft, text: str) -> Reply:
        if draft.stage is not DraftStage.FILLING:
            return self.current(draft)
        field = self._current_field(draft)
        if field is None:
            return self._advance(session, draft)
        word = text.strip().rstrip("。.!！")
        if word in CANCEL_WORDS:
            return self.discard(session, draft)
        if word in BACK_WORDS:
            return self.back(session, draft, field.id) or self.ask(draft, field)
        if field.type is FieldType.UPLOAD:
            if word in DONE_WORDS:
                return self.finish_upload(session, draft, field.id)
            return self._retry(draft, field, texts.FORM_UPLOAD_EXPECTED)
        if field.type is FieldType.MULTI and not text.strip():
            return self._retry(draft, field, field.retry)
        if (
            field.type in (FieldType.TEXT, FieldType.LONG_TEXT)
            and len(text.strip()) > field.max_length
        ):
            return self._too_long(session, draft, field, text.strip())
        try:
            value = validate(field, text, today=today())
        except ValidationError as error:
            return self._retry(draft, field, error.message)
        form = self.form(draft)
        if problem := cross_field_problem(form, field, value, self._answers(draft)):
            return self._retry(draft, field, problem)
        reply = self._store(session, draft, field, value)
        draft.last_answer = text.strip()  # after _store, which forgets any earlier words
        return reply

    def _too_long(self, session: Session, draft: Draft, field: FormField, text: str) -> Reply:
        """Over the limit: nothing is thrown away; the member may keep the first part."""
        draft.answers = {**draft.answers, PENDING: text[: field.max_length]}
        self._touch(session, draft)
        return Reply(
            texts.FORM_TOO_LONG.format(
                label=_e(field.label), limit=field.max_length, length=len(text)
            ),
            (
                (
                    Button(
                        texts.BUTTON_KEEP_FIRST.format(limit=field.max_length),
                        cb(draft, "y", field.id),
                    ),
                ),
                (Button(texts.BUTTON_RETYPE, cb(draft, "a", field.id)),),
            ),
        )

    def answer_option(
        self, session: Session, draft: Draft, field_id: str, index: int
    ) -> Reply | None:
        field = self._asked(draft, field_id)
        if field is None:
            return None
        if field.type is FieldType.YESNO and index in (0, 1):
            return self._store(session, draft, field, bool(index))
        if field.type is FieldType.CHOICE and 1 <= index <= len(field.options):
            return self._store(session, draft, field, field.options[index - 1])
        return None

    @staticmethod
    def _ticked(draft: Draft, field: FormField) -> list[int]:
        """The options ticked on a multiple choice: as tapped so far, else as answered."""
        picked = draft.answers.get(PICKED, {})
        if field.id in picked:
            return list(picked[field.id])
        value = draft.answers.get(field.id) or []
        return [i for i, option in enumerate(field.options, 1) if option in value]

    def toggle(self, session: Session, draft: Draft, field_id: str, index: int) -> Reply | None:
        field = self._asked(draft, field_id)
        if field is None or field.type is not FieldType.MULTI:
            return None
        if not 1 <= index <= len(field.options):
            return None
        picked_all = dict(draft.answers.get(PICKED, {}))
        picked = set(self._ticked(draft, field))
        picked ^= {index}
        picked_all[field_id] = sorted(picked)
        draft.answers = {**draft.answers, PICKED: picked_all}
        self._touch(session, draft)
        return self.ask(draft, field)

    def finish_multi(self, session: Session, draft: Draft, field_id: str) -> Reply | None:
        field = self._asked(draft, field_id)
        if field is None or field.type is not FieldType.MULTI:
            return None
        picked = self._ticked(draft, field)
        try:
            value = validate(field, ",".join(str(i) for i in picked), today=today())
        except ValidationError as error:
            return self._retry(draft, field, error.message)
        return self._store(session, draft, field, value)

    def use_profile(self, session: Session, draft: Draft, field_id: str) -> Reply | None:
        """使用已保存的: the remembered answer, checked like a typed one."""
        field = self._asked(draft, field_id)
        if field is None or not field.remember:
            return None
        remembered = draft.answers.get(PROFILE, {}).get(field.remember)
        if not remembered:
            return None
        try:
            value = validate(field, str(remembered), today=today())
        except ValidationError as error:
            return self._retry(draft, field, error.message)
        return self._store(session, draft, field, value)

    def profile_from(self, case: Case) -> dict[str, str]:
        """What of a filed case may be remembered, as the member would type it: the fields the
        form marks as the applicant's own (never a nominee's, a reported unit, or anything of
        an anonymous report)."""
        form = self.forms.get(case.form_id or "")
        answers = case.answers or {}
        if form is None or answers.get("anonymous") is True:
            return {}
        return {
            field.remember: display(field, answers[field.id])
            for field in form.fields
            if field.remember and answers.get(field.id)
        }

    def skip(self, session: Session, draft: Draft, field_id: str) -> Reply | None:
        field = self._asked(draft, field_id)
        if field is None or not field.optional:
            return None
        if field.type is FieldType.UPLOAD and draft.answers.get(field_id):
            return self.finish_upload(session, draft, field_id)
        return self._store(session, draft, field, None)

    def back(self, session: Session, draft: Draft, field_id: str) -> Reply | None:
        field = self._asked(draft, field_id)
        if field is None:
            return None
        previous = self.form(draft).previous_field(self._answers(draft), field_id)
        if previous is None:
            return None
        draft.current_field = previous.id
        self._touch(session, draft)
        return self.ask(draft, previous)

    def _asked(self, draft: Draft, field_id: str) -> FormField | None:
        """The field, if it is the one being asked now (old buttons are not)."""
        if draft.stage is not DraftStage.FILLING:
            return None
        field = self._current_field(draft)
        return field if field is not None and field.id == field_id else None

    def _retry(self, draft: Draft, field: FormField, message: str) -> Reply:
        if len(message) > RETRY_ECHO_LIMIT:
            message = message[:RETRY_ECHO_LIMIT] + "…"
        asked = self.ask(draft, field)
        return Reply(f"{_e(message)}\n\n{asked.text}", asked.buttons)

    def _store(self, session: Session, draft: Draft, field: FormField, value: Any) -> Reply:
        if field.refuses(value):
            self._end(session, draft, DraftStage.DISCARDED)
            return Reply(_e(field.refusal or field.retry))
        ticks = {k: v for k, v in draft.answers.get(PICKED, {}).items() if k != field.id}
        draft.answers = {**draft.answers, field.id: value, PICKED: ticks}
        draft.last_answer = None
        return self._advance(session, draft, answered=field.id)

    def _advance(self, session: Session, draft: Draft, answered: str | None = None) -> Reply:
        """After an answer: the field after it (stepping forward after 上一项), the first
        unanswered one, or the summary."""
        form = self.form(draft)
        answers = self._answers(draft)
        following: FormField | None = None
        if answered is not None and not draft.return_to_review:
            visible = form.visible_fields(answers)
            ids = [field.id for field in visible]
            if answered in ids and ids.index(answered) + 1 < len(ids):
                candidate = visible[ids.index(answered) + 1]
                following = candidate if candidate.id in answers else None
        if following is None:
            following = form.next_field(answers)
        draft.current_field = following.id if following is not None else None
        if following is None:
            draft.stage = DraftStage.REVIEW
            draft.return_to_review = False
        self._touch(session, draft)
        return self.current(draft)

    def keep(self, session: Session, draft: Draft, field_id: str) -> Reply | None:
        """保持不变: an answered field, passed again after 上一项, keeps its answer."""
        field = self._asked(draft, field_id)
        if field is None or field_id not in draft.answers:
            return None
        self._stop_replacing(draft)
        return self._advance(session, draft, answered=field_id)

    # -------------------------------------------------------------- uploads

    def check_upload(
        self,
        draft: Draft,
        *,
        kind: str,
        mime_type: str | None,
        size: int | None,
        file_name: str | None,
    ) -> tuple[FormField | None, str | None]:
        """The upload field being asked and an error, if this file may not be taken."""
        if draft.stage is not DraftStage.FILLING:
            return None, None
        field = self._current_field(draft)
        if field is None or field.type is not FieldType.UPLOAD:
            return field, texts.FORM_TEXT_EXPECTED
        problem = validate_upload(
            field,
            kind=kind,
            mime_type=mime_type,
            size=size,
            file_name=file_name,
            count_so_far=len(self._uploaded(draft, field.id)),
        )
        return field, problem

    def add_attachment(
        self, session: Session, draft: Draft, field: FormField, attachment: Attachment
    ) -> Reply:
        session.add(attachment)
        session.flush()
        stored = [*self._uploaded(draft, field.id), attachment.id]
        self._stop_replacing(draft)
        draft.answers = {**draft.answers, field.id: stored}
        self._touch(session, draft)
        if len(stored) >= field.max_count:
            return self.finish_upload(session, draft, field.id)
        asked = self.ask(draft, field)
        return Reply(
            f"{texts.FORM_UPLOAD_RECEIVED.format(count=len(stored))}{texts.FORM_UPLOAD_MORE}",
            asked.buttons,
        )

    def finish_upload(self, session: Session, draft: Draft, field_id: str) -> Reply:
        field = self._asked(draft, field_id)
        if field is None or field.type is not FieldType.UPLOAD:
            return self.current(draft)
        self._stop_replacing(draft)
        count = len(draft.answers.get(field_id) or [])
        if not field.optional and (problem := upload_count_problem(field, count)):
            return self._retry(draft, field, problem)
        value = draft.answers.get(field_id) or ([] if not field.optional else None)
        draft.answers = {**draft.answers, field_id: value}
        return self._advance(session, draft, answered=field_id)

    # -------------------------------------------------------------- review and submit

    def summary_lines(self, draft: Draft, *, masked: bool) -> list[str]:
        form = self.form(draft)
        answers = self._answers(draft)
        return [
            f"{_e(field.label)}：{_e(display(field, answers.get(field.id), masked=masked))}"
            for field in form.visible_fields(answers)
        ]

    def summary(self, draft: Draft) -> Reply:
        form = self.form(draft)
        text = texts.FORM_SUMMARY.format(
            title=_e(form.title), lines="\n".join(self.summary_lines(draft, masked=False))
        )
        return Reply(
            text,
            (
                (
                    Button(texts.BUTTON_SUBMIT, cb(draft, "S")),
                    Button(texts.BUTTON_EDIT, cb(draft, "E")),
                ),
                (Button(texts.BUTTON_DISCARD, cb(draft, "X")),),
            ),
        )

    def edit_menu(self, draft: Draft) -> Reply | None:
        if draft.stage is not DraftStage.REVIEW:
            return None
        form = self.form(draft)
        rows = [
            (Button(field.label, cb(draft, "e", field.id)),)
            for field in form.visible_fields(self._answers(draft))
        ]
        rows.append((Button(texts.BUTTON_BACK_TO_SUMMARY, cb(draft, "R")),))
        return Reply(texts.FORM_EDIT_MENU, tuple(rows))

    def edit_field(self, session: Session, draft: Draft, field_id: str) -> Reply | None:
        if draft.stage is not DraftStage.REVIEW:
            return None
        form = self.form(draft)
        answers = self._answers(draft)
        if field_id not in {f.id for f in form.visible_fields(answers)}:
            return None
        field = form.field(field_id)
        draft.stage = DraftStage.FILLING
        draft.current_field = field_id
        draft.return_to_review = True
        if field.type is FieldType.UPLOAD:
            # New files replace the old ones, but only once the first arrives (保持不变 keeps).
            draft.answers = {**draft.answers, REPLACING: field_id}
        self._touch(session, draft)
        return self.ask(draft, field)

    def back_to_summary(self, session: Session, draft: Draft) -> Reply | None:
        if draft.stage is DraftStage.REVIEW:
            return self.summary(draft)
        if draft.stage is not DraftStage.FILLING or not draft.return_to_review:
            return None
        if self.form(draft).next_field(self._answers(draft)) is not None:
            return None  # a field that became visible must be answered first
        draft.stage = DraftStage.REVIEW
        draft.current_field = None
        draft.return_to_review = False
        self._touch(session, draft)
        return self.summary(draft)

    def submit(
        self,
        session: Session,
        draft: Draft,
        *,
        member: Member,
        member_label: str,
        staff_chat_id: int,
    ) -> Outcome:
        """File the case once: a second 提交, or the same update twice, finds the first case."""
        existing = session.exec(select(Case).where(Case.draft_id == draft.id)).first()
        if existing is not None:
            return self._already_filed(existing)
        if draft.stage is not DraftStage.REVIEW:
            return Outcome(self.current(draft))
        if self.consent_outdated(draft):
            return Outcome(self.ask_consent_again(session, draft))
        form = self.form(draft)
        duty = self.catalogue.duty(form.duty)
        answers = form.visible_answers(self._answers(draft))
        if form.anonymous_allowed and answers.get("anonymous") is True:
            member_label = texts.ANONYMOUS_MEMBER  # staff never see who reported
        case = Case(
            kind=CaseKind.APPLICATION,
            member_id=member.id or 0,
            form_id=form.id,
            draft_id=draft.id,
            duty_id=duty.id,
            department=duty.department,
            subject=form.title,
            answers=answers,
            staff_chat_id=staff_chat_id,
        )
        try:
            with session.begin_nested():
                session.add(case)
                session.flush()
        except IntegrityError:  # another process filed it a moment ago
            return self._already_filed(
                session.exec(select(Case).where(Case.draft_id == draft.id)).one()
            )
        assert case.id is not None
        case.number = case_number(case.id, case.created_at)
        draft.stage = DraftStage.SUBMITTED
        self._touch(session, draft)
        attachments = session.exec(
            select(Attachment).where(Attachment.draft_id == draft.id).order_by(col(Attachment.id))
        ).all()
        wanted = self._attachment_ids(form, answers)
        kept = [a for a in attachments if a.id in wanted]
        for attachment in attachments:
            if attachment.id in wanted:
                attachment.case_id = case.id
                session.add(attachment)
            else:
                session.delete(attachment)  # replaced, or of a field no longer shown
        record_event(
            session=session,
            case=case,
            actor=Actor.MEMBER,
            actor_telegram_id=member.telegram_id,
            action="filed",
            detail={
                "form": form.id,
                "attachments": len(kept),
                "consented_at": draft.consented_at.isoformat() if draft.consented_at else None,
                "sensitive_consented_at": (
                    draft.sensitive_consented_at.isoformat()
                    if draft.sensitive_consented_at
                    else None
                ),
                "privacy_notice": draft.consent_version or self.privacy_version(form),
                "sensitive_privacy_notice": draft.sensitive_consent_version,
            },
        )
        self.casework.file(session, case, member_label=member_label, now=utcnow())
        # The case holds the answers now; the draft keeps none (nor the hidden stale ones, nor
        # the last words typed).
        draft.answers = {}
        draft.last_answer = None
        draft.current_field = None
        return Outcome(self._filed_reply(form, duty, case), case)

    @staticmethod
    def _already_filed(case: Case) -> Outcome:
        return Outcome(Reply(texts.FORM_ALREADY_FILED.format(number=case.number)), case)

    @staticmethod
    def _attachment_ids(form: Form, answers: Mapping[str, Any]) -> set[int]:
        """The files the case keeps: those of its (visible) upload answers."""
        ids: set[int] = set()
        for field in form.fields:
            if field.type is FieldType.UPLOAD:
                ids.update(answers.get(field.id) or [])
        return ids

    def _filed_reply(self, form: Form, duty: Duty, case: Case) -> Reply:
        reply = self._filed_text(form, duty, case)
        remembered = self.profile_from(case)
        if not remembered:
            return reply
        lines = "\n".join(
            f"{texts.PROFILE_LABELS[key]}：{_e(value)}" for key, value in remembered.items()
        )
        return Reply(
            reply.text + "\n\n" + texts.PROFILE_OFFER.format(lines=lines),
            (
                (Button(texts.BUTTON_PROFILE_SAVE, f"prof:save:{case.id}"),),
                (Button(texts.BUTTON_PROFILE_NO, "prof:no"),),
            ),
        )

    def _filed_text(self, form: Form, duty: Duty, case: Case) -> Reply:
        """What happens next, for the member (the form's own words); the union's internal
        steps stay under 办理流程."""
        text = texts.FORM_FILED.format(
            title=_e(form.title),
            number=case.number,
            steps=_e(form.next_steps.replace("{department}", duty.department)),
            department=_e(duty.department),
            contacts="\n".join(contact_lines(duty.contact)),
        )
        return Reply(text)

    # -------------------------------------------------------------- ending

    def discard(self, session: Session, draft: Draft) -> Reply:
        if draft.stage in ACTIVE_DRAFT_STAGES:
            self._end(session, draft, DraftStage.DISCARDED)
        return Reply(texts.FORM_CANCELLED.format(title=_e(self.form(draft).title)))

    def _end(self, session: Session, draft: Draft, stage: DraftStage) -> None:
        """A draft that will not be filed keeps no personal data."""
        draft.stage = stage
        draft.answers = {}
        draft.last_answer = None
        draft.current_field = None
        for attachment in session.exec(
            select(Attachment).where(Attachment.draft_id == draft.id)
        ).all():
            session.delete(attachment)
        self._touch(session, draft)

    @staticmethod
    def _touch(session: Session, draft: Draft) -> None:
        now = utcnow()
        draft.updated_at = now
        draft.reminded_at = None  # a new deadline, and a new reminder before it
        state = inspect(draft)
        if (
            state.attrs.current_field.history.has_changes()
            or state.attrs.stage.history.has_changes()
            or draft.asked_at is None
        ):
            draft.asked_at = now  # a new question from now on
        session.add(draft)

    @staticmethod
    def sent_before_asked(draft: Draft, sent_at: datetime) -> bool:
        """A text the member sent before the current question went out (Telegram's date is
        in whole seconds, so a little slack): typed again and again while the bot was away,
        it is no answer to a question it never saw."""
        return draft.asked_at is not None and sent_at < draft.asked_at - STALE_SLACK

    @staticmethod
    def taken_already(draft: Draft, update_id: int, sent_at: datetime | None) -> bool:
        """The update whose text the draft took last, or an earlier one, handled again (after a
        crash its effects were stored and its mark as handled was not). Telegram numbers
        updates in order, but starts afresh at random after a quiet week: a text sent after
        the current question went out is new whatever its number."""
        return (
            draft.last_update_id is not None
            and update_id <= draft.last_update_id
            and (sent_at is None or draft.asked_at is None or sent_at <= draft.asked_at)
        )

    def sent_earlier(self, draft: Draft, text: str) -> Reply | None:
        """A text sent before the current question: set aside. Nothing is said when it repeats
        an answer already given (the usual case); otherwise the member hears why, and the
        question again."""
        words = text.strip()
        given = {str(value) for key, value in draft.answers.items() if key not in INTERNAL}
        if words == draft.last_answer or words in given:
            return None
        asked = self.current(draft)
        return Reply(f"{texts.FORM_SENT_EARLIER}\n\n{asked.text}", asked.buttons)

    def ask_if_repeat(self, session: Session, draft: Draft, text: str) -> Reply | None:
        """The last answer's words again, as the next answer: asked about before they count."""
        field = self._current_field(draft)
        if (
            field is None
            or draft.stage is not DraftStage.FILLING
            or field.type not in REPEAT_CHECKED
            or draft.last_answer is None
            or text.strip() != draft.last_answer
        ):
            return None
        draft.answers = {**draft.answers, PENDING: text}
        self._touch(session, draft)
        return Reply(
            texts.FORM_REPEATED.format(text=_e(text[:40]), label=_e(field.label)),
            (
                (
                    Button(
                        texts.BUTTON_IS_ANSWER.format(label=field.label), cb(draft, "y", field.id)
                    ),
                ),
                (Button(texts.BUTTON_NOT_ANSWER, cb(draft, "a", field.id)),),
            ),
        )

    # -------------------------------------------------------------- reminders and expiry

    def sweep(
        self, session: Session, *, now: datetime, keep: timedelta, remind_before: timedelta
    ) -> tuple[int, int]:
        """Remind members of drafts about to expire; expire the old ones (their files go
        with the next sweep of files no attachment refers to)."""
        reminded = expired = 0
        drafts = session.exec(select(Draft).where(col(Draft.stage).in_(ACTIVE_DRAFT_STAGES))).all()
        for draft in drafts:
            member = session.get(Member, draft.member_id)
            if member is None:
                continue
            form = self.forms.get(draft.form_id)
            title = _e(form.title) if form else texts.FORM_UNKNOWN_TITLE
            deadline = draft.updated_at + keep
            if deadline <= now:
                self._end(session, draft, DraftStage.EXPIRED)
                enqueue(
                    session=session,
                    chat_id=member.chat_id,
                    text=texts.FORM_EXPIRED.format(title=title),
                    priority=BACKGROUND,
                )
                expired += 1
            elif form and deadline - remind_before <= now and draft.reminded_at is None:
                draft.reminded_at = now
                session.add(draft)  # not _touch: a reminder does not move the deadline
                enqueue(
                    session=session,
                    chat_id=member.chat_id,
                    text=texts.FORM_REMINDER.format(title=title, when=local_time(deadline)),
                    priority=BACKGROUND,
                )
                reminded += 1
        return reminded, expired
