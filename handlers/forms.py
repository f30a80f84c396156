"""Applications in a private chat: /apply, the form dialogue, uploads, and /mycases."""

from __future__ import annotations

import hashlib
import html
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, select
from telegram import Message, Update, User
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CommandHandler, filters

from bot import texts
from bot.applications import is_human_request, local_time, looks_like_question
from bot.replies import SHORT_QUESTION, Button, Reply, brief_answer, callback_number
from bot.services import Context, Services, services
from handlers.common import member_label, send
from knowledge.forms import (
    FieldType,
    allowed_types,
    content_problem,
    detected_type,
    display,
    looks_like_organisation_name,
)
from storage.cases import touch_member
from storage.crypto import encrypt_bytes
from storage.models import (
    Attachment,
    Case,
    CaseKind,
    CaseStatus,
    Draft,
    DraftStage,
    Member,
    utcnow,
)
from storage.private import write_private

log = logging.getLogger(__name__)
PRIVATE = filters.ChatType.PRIVATE
MYCASES_SHOWN = 10


def register(app: Application) -> None:
    app.add_handler(CommandHandler("apply", apply_command, filters=PRIVATE))
    app.add_handler(CommandHandler("mycases", mycases_command, filters=PRIVATE))
    app.add_handler(CommandHandler("profile", profile_command, filters=PRIVATE))


# ------------------------------------------------------------------ the dialogue


def on_text(
    svc: Services,
    session: Session,
    draft: Draft,
    text: str,
    member: Member,
    user: User,
    sent_at: datetime | None = None,
    update_id: int | None = None,
) -> Reply | None:
    """A text while a draft is under way. Nothing typed is lost: the words of a button press
    it; 转人工 offers a person; a question is answered and the field asked again; words that
    may be either the answer or a question are asked about; the same words as the last answer
    are asked about; the rest is the answer. A text sent before the question went out is no
    answer to it (None: nothing to say). A text the draft has taken already (handled again
    after a crash) is not the next answer either: the question it led to is asked again, in
    case the crash lost it."""
    apps = svc.applications
    if update_id is not None:
        if apps.taken_already(draft, update_id, sent_at):
            return apps.current(draft)
        draft.last_update_id = update_id
        session.add(draft)
    if sent_at is not None and apps.sent_before_asked(draft, sent_at):
        return apps.sent_earlier(draft, text)
    idle = utcnow() - draft.updated_at
    if idle > timedelta(hours=svc.settings.draft_resume_after_hours):
        draft.updated_at = utcnow()  # asked once; the next text is an answer again
        session.add(draft)
        return apps.resume_offer(draft)
    if is_human_request(text):
        return apps.handoff_offer(draft)
    if (field := apps.named_field(draft, text)) is not None:
        return apps.edit_field(session, draft, field.id) or apps.current(draft)
    if (data := apps.typed_button(draft, text)) is not None:
        return on_button(svc, session, member, user, data) or apps.current(draft)
    asked = apps.asked_field(draft)
    if looks_like_question(text, asked):
        return apps.still_filling(draft, _brief(svc, text, apps.form(draft).duty))
    if draft.stage is not DraftStage.FILLING:
        return apps.press_hint(draft)
    if (
        asked is not None
        and asked.type in FREE_TEXT
        and len(text.strip()) <= SHORT_QUESTION  # a description is long; a question is not
        # 河东某机械厂工会 for 所属基层工会 names the union, it does not ask about it.
        and not looks_like_organisation_name(asked, text)
        and _confident_question(svc, text)
    ):
        return apps.ask_which(session, draft, text)
    if (repeated := apps.ask_if_repeat(session, draft, text)) is not None:
        return repeated
    return apps.answer_text(session, draft, text)


# Fields where anything goes, so that a question could pass for an answer.
FREE_TEXT = {FieldType.TEXT, FieldType.LONG_TEXT, FieldType.NAME}


def _brief(svc: Services, text: str, form_duty: str) -> str:
    return brief_answer(
        svc.catalogue,
        svc.router.route(text),
        confident_score=svc.settings.confident_score,
        union=svc.settings.union_name,
        forms=svc.forms,
        faq=svc.faq,
        form_duty=form_duty,
    )


def _confident_question(svc: Services, text: str) -> bool:
    route = svc.router.route(text)
    return route.is_confident(svc.settings.confident_score)


def on_button(
    svc: Services,
    session: Session,
    member: Member,
    user: User,
    data: str,
) -> Reply | None:
    """apply:<form> or fm:<draft>:<action>[:<field>[:<n>]]; None when the button is stale."""
    apps = svc.applications
    kind, _, rest = data.partition(":")
    if kind == "apply":
        return apps.begin(session, member, rest) if rest else apps.menu()
    if kind == "cases":
        return my_cases(svc, session, member, offset=int(rest) if rest.isdigit() else 0)
    if kind in {"case", "wd", "wdok"}:
        return _case_button(svc, session, member, kind, rest)
    if kind == "prof":
        return _profile_button(svc, session, member, rest)
    parts = rest.split(":")
    draft_id = callback_number(parts[0])
    if kind != "fm" or len(parts) < 2 or draft_id is None:
        return None
    draft = apps.draft_of(session, member, draft_id)
    if draft is None or draft.form_id not in apps.forms:
        return None
    action, args = parts[1], parts[2:]
    if action == "N" and args:  # discard this draft and start the named form
        if not draft.stage.is_active or args[0] not in apps.forms:
            return None
        apps.discard(session, draft)
        return apps.begin(session, member, args[0])
    if not draft.stage.is_active and action != "S":
        return None
    # 提交 again (a double press, or the same press handled again after a crash, whose answer
    # may never have gone out): the case it filed, with its number.
    field = args[0] if args else ""
    parsed = callback_number(args[1]) if len(args) > 1 else None
    number = -1 if parsed is None else parsed
    # The actions that name the field they belong to (an old button names an old field).
    on_field: dict[str, Callable[[Session, Draft, str], Reply | None]] = {
        "d": apps.finish_multi,
        "s": apps.skip,
        "k": apps.keep,
        "p": apps.use_profile,
        "b": apps.back,
        "u": apps.finish_upload,
        "e": apps.edit_field,
    }
    on_option: dict[str, Callable[[Session, Draft, str, int], Reply | None]] = {
        "o": apps.answer_option,
        "t": apps.toggle,
    }
    if action in on_field:
        return on_field[action](session, draft, field)
    if action in on_option:
        return on_option[action](session, draft, field, number)
    if action in {"ok", "sok", "no"}:  # ok and sok name the notice's version they agree to
        return apps.consent(session, draft, action, args[0] if args else None)
    if action == "K":
        return apps.resume(session, draft)
    if action in {"y", "q", "a"}:  # the words set aside: the answer, a question, or neither
        pending = apps.take_pending(session, draft, field)
        if pending is None:
            return None
        if action == "y":
            return apps.answer_text(session, draft, pending)
        if action == "q":
            return apps.still_filling(draft, _brief(svc, pending, apps.form(draft).duty))
        return apps.current(draft)
    if action == "X":
        return apps.discard(session, draft)
    if action == "E":
        return apps.edit_menu(draft)
    if action == "R":
        return apps.back_to_summary(session, draft)
    if action == "S":
        form = apps.form(draft)
        duty = svc.catalogue.duty(form.duty)
        outcome = apps.submit(
            session,
            draft,
            member=member,
            member_label=member_label(user),
            staff_chat_id=svc.settings.staff_chat_for(duty.department),
        )
        return outcome.reply
    return None


async def _answer_member(
    update: Update, context: Context, make: Callable[[Services, Session, Member], Reply]
) -> None:
    """A command whose answer needs only the member's own records."""
    svc = services(context)
    if (message := update.effective_message) is None or (user := update.effective_user) is None:
        return

    def work(session: Session) -> Reply:
        member = touch_member(session=session, telegram_id=user.id, chat_id=message.chat_id)
        return make(svc, session, member)

    await send(message, await svc.db.session(work))


def _apply_menu(svc: Services, session: Session, member: Member) -> Reply:
    draft = svc.applications.active_draft(session, member)
    return svc.applications.resume_offer(draft) if draft else svc.applications.menu()


async def apply_command(update: Update, context: Context) -> None:
    await _answer_member(update, context, _apply_menu)


async def on_upload(svc: Services, context: Context, message: Message, draft: Draft) -> Reply:
    """A message sent while a draft is under way: a photo or file for it, or a reminder of
    what the form is asking."""
    found = attachment_of(message)
    if found is None:  # a sticker, voice, location …
        asked = svc.applications.current(draft)
        return Reply(f"{texts.FORM_TEXT_EXPECTED}\n\n{asked.text}", asked.buttons)
    kind, file_id, unique_id, size, mime_type, file_name = found
    field, problem = svc.applications.check_upload(
        draft, kind=kind, mime_type=mime_type, size=size, file_name=file_name
    )
    if problem is not None or field is None:
        asked = svc.applications.current(draft)
        return Reply(f"{problem}\n\n{asked.text}" if problem else asked.text, asked.buttons)
    draft_id = draft.id
    saved = await save_upload(svc, context, file_id, allowed_types(field, kind))
    if isinstance(saved, Reply):
        return saved
    content_size = saved[2]

    def store(session: Session) -> Reply:
        draft = session.get(Draft, draft_id)
        if draft is None or not draft.stage.is_active:
            return Reply(texts.FORM_UPLOAD_FAILED)
        field, problem = svc.applications.check_upload(
            draft, kind=kind, mime_type=mime_type, size=content_size, file_name=file_name
        )
        if field is None or problem is not None:
            return Reply(problem or texts.FORM_UPLOAD_FAILED)
        duplicate = session.exec(
            select(Attachment)
            .where(Attachment.draft_id == draft.id)
            .where(Attachment.telegram_file_unique_id == unique_id)
        ).first()
        if duplicate is not None and duplicate.id in (draft.answers.get(field.id) or []):
            return Reply(texts.FORM_UPLOAD_DUPLICATE, svc.applications.ask(draft, field).buttons)
        attachment = attachment_for(message, found, saved, draft_id=draft.id, field_id=field.id)
        return svc.applications.add_attachment(session, draft, field, attachment)

    return await svc.db.session(store)


async def save_upload(
    svc: Services, context: Context, file_id: str, allowed: Sequence[str]
) -> tuple[str, str, int, str] | Reply:
    """Download a member's file, check what it really is, and keep our own copy under a
    generated name (its sha256): (sha256, path relative to the files directory, size, the type
    its bytes show), or the reply that says why it could not be kept."""
    try:
        telegram_file = await context.bot.get_file(file_id)
        content = bytes(await telegram_file.download_as_bytearray())
    except BadRequest as error:
        if "too big" in error.message.lower():  # the Bot API downloads at most 20 MB
            return Reply(texts.FORM_UPLOAD_TOO_BIG)
        log.warning("download refused: %s", type(error).__name__)
        return Reply(texts.FORM_UPLOAD_FAILED)
    except TelegramError as error:
        log.warning("download failed: %s", type(error).__name__)
        return Reply(texts.FORM_UPLOAD_FAILED)
    if (problem := content_problem(allowed, content)) is not None:
        log.info("an upload refused: its content is not of an allowed type")
        return Reply(problem)
    digest = hashlib.sha256(content).hexdigest()
    relative = Path(digest[:2]) / digest
    target = svc.files_dir / relative
    if not target.exists():
        # Encrypted, 0600 in 0700 folders whatever the umask.
        write_private(target, encrypt_bytes(content))
    return digest, str(relative), len(content), detected_type(content)


def attachment_for(
    message: Message,
    found: tuple[str, str, str, int | None, str | None, str | None],
    saved: tuple[str, str, int, str],
    *,
    draft_id: int | None = None,
    field_id: str = "",
) -> Attachment:
    """The record of a member's file: what Telegram calls it, and our own copy."""
    kind, file_id, unique_id, _size, _declared, file_name = found
    digest, relative, size, mime_type = saved
    return Attachment(
        draft_id=draft_id,
        field_id=field_id,
        kind=kind,
        telegram_file_id=file_id,
        telegram_file_unique_id=unique_id,
        chat_id=message.chat_id,
        message_id=message.message_id,
        file_name=file_name,
        mime_type=mime_type,
        caption=(message.caption or "").strip()[:CAPTION_KEPT] or None,
        size=size,
        sha256=digest,
        path=relative,
    )


CAPTION_KEPT = 500


def attachment_of(
    message: Message,
) -> tuple[str, str, str, int | None, str | None, str | None] | None:
    if message.photo:
        photo = message.photo[-1]  # the largest size
        return "photo", photo.file_id, photo.file_unique_id, photo.file_size, "image/jpeg", None
    if message.document:
        doc = message.document
        return (
            "document",
            doc.file_id,
            doc.file_unique_id,
            doc.file_size,
            doc.mime_type,
            doc.file_name,
        )
    return None


# ------------------------------------------------------------------ /mycases


def _status(case: Case) -> str:
    return texts.CASE_STATUS.get(case.status.value, case.status.value)


def my_cases(svc: Services, session: Session, member: Member, *, offset: int = 0) -> Reply:
    """The member's cases, newest first, ten a page (更早的 pages on), with the draft under way."""
    cases = session.exec(
        select(Case)
        .where(Case.member_id == member.id)
        .order_by(col(Case.id).desc())
        .offset(offset)
        .limit(MYCASES_SHOWN + 1)
    ).all()
    more, cases = len(cases) > MYCASES_SHOWN, cases[:MYCASES_SHOWN]
    draft = svc.applications.active_draft(session, member) if offset == 0 else None
    if not cases and draft is None:
        return Reply(texts.MYCASES_NONE)
    rows = [
        (
            Button(
                texts.MYCASE_LINE.format(number=c.number, title=c.subject[:16], status=_status(c)),
                f"case:{c.id}",
            ),
        )
        for c in cases
    ]
    if draft is not None:  # an application not yet submitted: one press to go on with it
        title = svc.applications.form(draft).title
        rows.insert(0, (Button(texts.MYCASE_DRAFT.format(title=title), f"fm:{draft.id}:K"),))
    if more:
        rows.append((Button(texts.BUTTON_MYCASES_OLDER, f"cases:{offset + MYCASES_SHOWN}"),))
    return Reply(texts.MYCASES_TITLE.format(count=len(cases)), tuple(rows))


def _case_button(
    svc: Services, session: Session, member: Member, kind: str, rest: str
) -> Reply | None:
    case = session.get(Case, case_id) if (case_id := callback_number(rest)) is not None else None
    if case is None or case.member_id != member.id:
        return None  # never another member's case
    back = (Button(texts.BUTTON_MYCASES, "cases"),)
    if kind == "case":
        return _case_detail(svc, case, back)
    if case.kind is not CaseKind.APPLICATION or case.status is not CaseStatus.OPEN:
        department = case.department or texts.UNION_SHORT
        return Reply(
            texts.MYCASE_CANNOT_WITHDRAW.format(number=case.number, department=department)
            if case.kind is CaseKind.APPLICATION and not case.status.is_final
            else _case_detail(svc, case, back).text,
            (back,),
        )
    if kind == "wd":
        return Reply(
            texts.MYCASE_WITHDRAW_CONFIRM.format(number=case.number),
            ((Button(texts.BUTTON_CONFIRM_WITHDRAW, f"wdok:{case.id}"),), back),
        )
    svc.casework.withdraw(session, case, member)
    return Reply(texts.MYCASE_WITHDRAWN.format(number=case.number), (back,))


def _case_detail(svc: Services, case: Case, back: tuple[Button, ...]) -> Reply:
    lines: list[str] = []
    form = svc.applications.forms.get(case.form_id or "")
    if form is not None and case.answers:
        answers = case.answers
        lines = [
            # Unmasked: it is the member's own, in their private chat.
            f"{field.label}：{display(field, answers[field.id], masked=False)}"
            for field in form.visible_fields(answers)
            if field.id in answers
        ]
    elif case.kind is CaseKind.CONSULTATION:
        lines = [case.subject[:500]]
    text = texts.MYCASE_DETAIL.format(
        number=case.number,
        title=html.escape(case.subject[:60] if form is None else form.title, quote=False),
        status=_status(case),
        created=local_time(case.created_at),
        lines=html.escape("\n".join(lines), quote=False),
    )
    rows: list[tuple[Button, ...]] = []
    if case.kind is CaseKind.APPLICATION and case.status is CaseStatus.OPEN:
        rows.append((Button(texts.BUTTON_WITHDRAW, f"wd:{case.id}"),))
    rows.append(back)
    return Reply(text, tuple(rows))


async def mycases_command(update: Update, context: Context) -> None:
    await _answer_member(update, context, my_cases)


# ------------------------------------------------------------------ /profile


def profile_reply(_svc: Services, _session: Session, member: Member) -> Reply:
    if not member.profile:
        return Reply(texts.PROFILE_NONE)
    lines = "\n".join(
        f"{texts.PROFILE_LABELS.get(key, key)}：{html.escape(str(value), quote=False)}"
        for key, value in member.profile.items()
    )
    when = local_time(member.profile_consented_at) if member.profile_consented_at else "—"
    return Reply(
        texts.PROFILE_SHOW.format(lines=lines, when=when),
        ((Button(texts.BUTTON_PROFILE_DELETE, "prof:delete"),),),
    )


def _profile_button(svc: Services, session: Session, member: Member, rest: str) -> Reply | None:
    action, _, case_id = rest.partition(":")
    if action == "no":
        return Reply(texts.PROFILE_NOT_SAVED)
    if action == "delete":
        member.profile = None
        member.profile_consented_at = None
        session.add(member)
        return Reply(texts.PROFILE_DELETED)
    number = callback_number(case_id)
    case = session.get(Case, number) if number is not None else None
    if action != "save" or case is None or case.member_id != member.id:
        return None
    remembered = svc.applications.profile_from(case)
    if not remembered:
        return None
    member.profile = {**(member.profile or {}), **remembered}  # this application's, added
    member.profile_consented_at = utcnow()
    session.add(member)
    return Reply(texts.PROFILE_SAVED)


async def profile_command(update: Update, context: Context) -> None:
    await _answer_member(update, context, profile_reply)
