"""What a member can do in a private chat: ask, browse, and reach a person."""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import re
from datetime import timedelta
from typing import Any, Literal

from sqlmodel import Session
from telegram import InputFile, Message, Update, User
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ExtBot,
    MessageHandler,
    filters,
)

from bot import flood, replies, rights, texts
from bot.applications import CB as FORM_CB
from bot.applications import local_time
from bot.casework import CB_END_TALK, CB_RATE, CB_SUPPLIED
from bot.consultations import end_consultation, start_consultation
from bot.pacing import BACKGROUND
from bot.replies import Reply
from bot.services import Context, Services, services
from bot.workdays import CHINA
from handlers import forms
from handlers.common import answer_query, edit, member_label, send, send_to
from knowledge.catalogue import Aspect
from knowledge.forms import PHOTO_TYPES
from knowledge.normalize import reads_as_english
from knowledge.router import Route, RouteKind
from storage.cases import (
    case_for_reply,
    consultations_since,
    open_consultation,
    record_miss,
    touch_member,
)
from storage.db import forget_old_pages
from storage.models import Case, Draft, Member, MissReason, utcnow

PRIVATE = filters.ChatType.PRIVATE
FORM_BUTTONS = {"apply", "fm", "cases", "case", "wd", "wdok", "prof"}
CASE_BUTTONS = {CB_RATE, CB_SUPPLIED, CB_END_TALK}
COMMENT_FRESH = timedelta(minutes=10)  # a text after a rating may be its comment this long
# What members may send as material for a case (the forms say the same for their uploads).
CASE_FILE_TYPES = {"image/jpeg", "image/png", "application/pdf"}
HUMAN_INTENT = "human"  # the lexicon's small-talk intent for 转人工
APPLY_INTENT = "apply"  # 我想申请: the /apply menu
MYCASES_INTENT = "mycases"  # 我的申请, 办好了吗: /mycases
CJK = re.compile(r"[\u3400-\u9fff]")
# How long tidying an answered question's buttons may wait for Telegram, in seconds.
DROP_BUTTONS_WAIT = 3.0  # and the bot stops without waiting longer for one
# In a consultation members type in bursts: a bigger bucket (the burst reaches staff as one).
CONSULTATION_FLOOD_SCALE = 3.0
log = logging.getLogger(__name__)
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
PENDING_QUESTION_FRESH = timedelta(minutes=30)
NEW_MESSAGE = filters.UpdateType.MESSAGE  # edited messages are not new questions
MEDIA = (
    filters.PHOTO
    | filters.Document.ALL
    | filters.Sticker.ALL
    | filters.VOICE
    | filters.AUDIO
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.LOCATION
    | filters.VENUE
    | filters.CONTACT
    | filters.ANIMATION
    | filters.POLL
    | filters.Dice.ALL
)


def register(app: Application) -> None:
    app.add_handler(CommandHandler("start", start, filters=PRIVATE))
    app.add_handler(CommandHandler("help", help_command, filters=PRIVATE))
    app.add_handler(CommandHandler("menu", menu, filters=PRIVATE))
    app.add_handler(CommandHandler("human", human_command, filters=PRIVATE))
    app.add_handler(CommandHandler("cancel", cancel, filters=PRIVATE))
    app.add_handler(CommandHandler("mydata", mydata_command, filters=PRIVATE))
    app.add_handler(CommandHandler("deleteme", deleteme_command, filters=PRIVATE))
    app.add_handler(CommandHandler("withdraw", withdraw_command, filters=PRIVATE))
    app.add_handler(CommandHandler("privacy", privacy_command, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(button))
    app.add_handler(MessageHandler(PRIVATE & NEW_MESSAGE & filters.TEXT & ~filters.COMMAND, text))
    app.add_handler(MessageHandler(PRIVATE & NEW_MESSAGE & MEDIA, media))
    # Any other command in a private chat: say what the bot understands.
    app.add_handler(MessageHandler(PRIVATE & NEW_MESSAGE & filters.COMMAND, unknown_command))


def _member(update: Update) -> tuple[User, Message] | None:
    if (user := update.effective_user) is None or (message := update.effective_message) is None:
        return None
    return user, message


async def start(update: Update, context: Context) -> None:
    if (message := update.effective_message) is None:
        return
    svc = services(context)
    union = svc.settings.union_name
    miss = svc.periods.words()["miss"]
    await send(message, Reply(texts.WELCOME.format(union=html.escape(union), miss=miss)))
    if (user := update.effective_user) is None:
        return

    def look(session: Session) -> Reply | None:
        member = touch_member(session=session, telegram_id=user.id, chat_id=message.chat_id)
        draft = svc.applications.active_draft(session, member)
        return svc.applications.resume_offer(draft) if draft is not None else None

    offer = await svc.db.session(look)
    if offer is not None:  # back after a while: continue the application, or discard it
        await send(message, offer)


async def help_command(update: Update, context: Context) -> None:
    if (message := update.effective_message) is not None:
        await send(message, Reply(texts.HELP))


async def unknown_command(update: Update, context: Context) -> None:
    """A command the bot does not have gets the help; one meant for another bot, nothing."""
    if (message := update.effective_message) is None or not message.text:
        return
    command = message.text.split()[0]
    _, _, addressee = command.partition("@")
    if addressee and addressee.lower() != (context.bot.username or "").lower():
        return
    await send(message, Reply(texts.HELP))


async def menu(update: Update, context: Context) -> None:
    if (message := update.effective_message) is not None:
        await send(message, replies.menu_root(services(context).catalogue))


async def text(update: Update, context: Context) -> None:
    svc = services(context)
    if (found := _member(update)) is None or found[1].text is None:
        return
    user, message = found
    question = message.text or ""
    reply = await svc.db.session(
        lambda session: _on_text(svc, session, user, message, question, update.update_id),
    )
    if reply is not None:
        await send(message, reply)


def _focus(
    svc: Services, session: Session, member: Member, message: Message
) -> Draft | Case | None:
    """What the member's message is for: the case whose message they reply to; else the form
    or the case they are talking to staff about, whichever the member turned to last (their
    own doing: a staff message must not take a form over)."""
    replied = message.reply_to_message
    if replied is not None:
        case = case_for_reply(
            session=session, chat_id=message.chat_id, message_id=replied.message_id
        )
        if case is not None and case.member_id == member.id:
            return case
    draft = svc.applications.active_draft(session, member)
    case = svc.casework.member_focus(session, member, utcnow())
    if draft is not None and case is not None:
        return draft if draft.updated_at >= svc.casework.member_turned_to(session, case) else case
    return draft or case


def _everyday(text: str, route: Route | None = None) -> Reply | None:
    """What the router leaves unsaid but a person would answer: an emoji or a row of question
    marks, and a message in English (pinyin the router has understood already). An English
    message the router has read offers that duty's card besides the English buttons."""
    if not any(ch.isalnum() for ch in text):
        if set(text.strip()) <= set("?？!！.。、…~～ "):
            return Reply(texts.CLARIFY_VAGUE, replies.menu_root_buttons_only())
        return Reply(texts.EMOJI_ONLY)
    if CJK.search(text) is None and LATIN_WORD.search(text):
        lowered = text.lower()
        rows = [
            (replies.Button(label, data),)
            for words, label, data in texts.ENGLISH_TOPICS
            if any(word in lowered for word in words)
        ]
        if not rows and route is not None and route.duty is not None:
            duty_data = replies.cb_duty(route.duty, route.aspect or Aspect.OVERVIEW)
            rows.append((replies.Button(texts.ENGLISH_DUTY.format(duty=route.duty), duty_data),))
        rows += [
            (replies.Button(label, data),)
            for _, label, data in texts.ENGLISH_TOPICS
            if (replies.Button(label, data),) not in rows
        ]
        return Reply(texts.ENGLISH, tuple(rows))
    return None


def _comment_case(
    svc: Services, session: Session, member: Member, message: Message, text: str
) -> Case | None:
    """The case the member just rated, when this text is its comment: soon after the rating,
    and not a question the bot can answer, a form's answer or a reply about something else."""
    if member.awaiting_comment_case is None:
        return None
    case = session.get(Case, member.awaiting_comment_case)
    route = svc.router.route(text)
    question = route.topic == HUMAN_INTENT or (route.is_confident(svc.settings.confident_score))
    if (
        case is None
        or case.rated_at is None
        or utcnow() - case.rated_at > COMMENT_FRESH
        or question
        or member.awaiting_handoff
        or message.reply_to_message is not None
        or svc.applications.active_draft(session, member) is not None
    ):
        member.awaiting_comment_case = None
        session.add(member)
        return None
    return case


def _flooding(svc: Services, session: Session, member: Member) -> Reply | Literal[""] | None:
    """None: go ahead. Otherwise the member is flooding: one warning, then silence ("")."""
    talking = open_consultation(session=session, member=member) is not None
    verdict = flood.check(
        member, utcnow(), svc.settings.flood_rule, scale=CONSULTATION_FLOOD_SCALE if talking else 1
    )
    session.add(member)
    if verdict == flood.Verdict.ALLOW:
        return None
    if verdict == flood.Verdict.WARN:
        log.info("a member is flooding; cooling down")
        return Reply(texts.FLOOD_WARNING)
    return ""


def _on_text(
    svc: Services,
    session: Session,
    user: User,
    message: Message,
    question: str,
    update_id: int | None = None,
) -> Reply | None:
    member = touch_member(session=session, telegram_id=user.id, chat_id=message.chat_id)
    if (slowed := _flooding(svc, session, member)) is not None:
        return slowed or None
    if (rated := _comment_case(svc, session, member, message, question)) is not None:
        return svc.casework.comment(session, rated, member, question)
    focus = None if member.awaiting_handoff else _focus(svc, session, member, message)
    reply: Reply | None
    if member.awaiting_handoff:
        reply = _hand_over(svc, session, member, user, question, member.handoff_duty)
    elif isinstance(focus, Draft):
        reply = forms.on_text(svc, session, focus, question, member, user, message.date, update_id)
    elif isinstance(focus, Case) and focus.status.is_final:
        reply = Reply(texts.MEMBER_CASE_ENDED.format(number=focus.number))
    elif isinstance(focus, Case):
        reply = svc.casework.member_wrote(session, focus, question)
        if (draft := svc.applications.active_draft(session, member)) is not None:
            # A form paused for a consultation: one press takes the member back to it.
            reply = Reply(reply.text, (*reply.buttons, svc.applications.resume_button(draft)))
    elif (route := svc.router.route(question)).topic == HUMAN_INTENT:
        reply = _handoff_or_ask(svc, session, member, user, None)
    elif route.kind is RouteKind.SMALLTALK and route.topic == APPLY_INTENT:
        reply = svc.applications.menu()
    elif route.kind is RouteKind.SMALLTALK and route.topic == MYCASES_INTENT:
        reply = forms.my_cases(svc, session, member)
    elif (
        route.kind is RouteKind.OUT_OF_SCOPE
        or (route.kind is RouteKind.DUTY and reads_as_english(question))
    ) and (everyday := _everyday(question, route)) is not None:
        reply = everyday
    else:
        said = replies.answer(
            svc.catalogue,
            route,
            confident_score=svc.settings.confident_score,
            union=svc.settings.union_name,
            apply=svc.applications.links,
            forms=svc.forms,
            faq=svc.faq,
        )
        if said.miss is not None:
            reason = MissReason(said.miss.value)
            record_miss(session=session, question=question, reason=reason, guess=said.guess)
        member.pending_question = question if route.kind is not RouteKind.SMALLTALK else None
        member.pending_question_at = utcnow()
        confident = route.is_confident(svc.settings.confident_score)
        member.pending_duty = route.duty if confident else None
        session.add(member)
        reply = said.reply
    return reply


async def media(update: Update, context: Context) -> None:
    """Photos and files: for the form being filled in, or kept with the case they are about;
    otherwise (and stickers, voice …) a friendly word."""
    svc = services(context)
    if (found := _member(update)) is None:
        return
    user, message = found

    def look(session: Session) -> Draft | Case | None:
        member = touch_member(session=session, telegram_id=user.id, chat_id=message.chat_id)
        return _focus(svc, session, member, message)

    focus = await svc.db.session(look)
    if isinstance(focus, Draft):  # downloading happens outside any transaction
        reply = await forms.on_upload(svc, context, message, focus)
    elif isinstance(focus, Case) and not focus.status.is_final:
        reply = await _case_file(svc, context, message, focus)
    else:
        reply = Reply(
            texts.MEDIA_NOT_UNDERSTOOD,
            ((replies.Button(texts.BUTTON_HUMAN, replies.CB_HUMAN),),),
        )
    await send(message, reply)


async def _case_file(svc: Services, context: Context, message: Message, case: Case) -> Reply:
    """A photo or file about a case: kept with it, not posted to the staff chat (staff see it
    on request, in their private chat)."""
    found = forms.attachment_of(message)
    if found is None or found[4] not in CASE_FILE_TYPES:
        return Reply(texts.MEMBER_SUPPLY_FILE_KINDS)
    allowed = PHOTO_TYPES if found[0] == "photo" else tuple(CASE_FILE_TYPES)
    saved = await forms.save_upload(svc, context, found[1], allowed)
    if isinstance(saved, Reply):
        return saved
    case_id = case.id

    def store(session: Session) -> Reply:
        current = session.get(Case, case_id)
        if current is None or current.status.is_final:
            return Reply(texts.MEMBER_CASE_ENDED.format(number=case.number))
        attachment = forms.attachment_for(message, found, saved)
        return svc.casework.member_sent_file(session, current, attachment, message.caption)

    return await svc.db.session(store)


def _end_button() -> tuple[tuple[replies.Button, ...], ...]:
    return ((replies.Button(texts.BUTTON_END, replies.CB_END),),)


def _hand_over(
    svc: Services,
    session: Session,
    member: Member,
    user: User,
    question: str,
    duty_id: str | None,
) -> Reply:
    if duty_id is None:
        route = svc.router.route(question)
        if route.is_confident(svc.settings.confident_score):
            duty_id = route.duty
    if (limit := _consultations_today(svc, session, member)) is not None:
        return limit
    duty = svc.catalogue.get(duty_id) if duty_id else None
    case = start_consultation(
        session=session,
        catalogue=svc.catalogue,
        casework=svc.casework,
        member=member,
        member_label=member_label(user),
        question=question,
        duty_id=duty_id,
        staff_chat_id=svc.settings.staff_chat_for(duty.department if duty else None),
    )
    text = texts.HANDOFF_DONE.format(number=case.number)
    buttons = _end_button()
    if (draft := svc.applications.active_draft(session, member)) is not None:
        text += "\n" + texts.FORM_PAUSED.format(
            title=html.escape(svc.applications.form(draft).title)
        )
        buttons = (*buttons, svc.applications.resume_button(draft))
    return Reply(text, buttons)


def _consultations_today(svc: Services, session: Session, member: Member) -> Reply | None:
    """The refusal when the member has opened as many consultations today as allowed."""
    today = utcnow().astimezone(CHINA).replace(hour=0, minute=0, second=0, microsecond=0)
    count = consultations_since(session=session, member=member, since=today)
    if count < svc.settings.consultations_per_day:
        return None
    return Reply(
        texts.CONSULTATIONS_LIMIT.format(
            count=count, contacts=replies.union_contacts(svc.catalogue)
        )
    )


async def _human(svc: Services, user: User, chat_id: int, duty_id: str | None) -> Reply:
    def work(session: Session) -> Reply:
        member = touch_member(session=session, telegram_id=user.id, chat_id=chat_id)
        if (case := open_consultation(session=session, member=member)) is not None:
            return Reply(texts.HANDOFF_DONE.format(number=case.number), _end_button())
        return _handoff_or_ask(svc, session, member, user, duty_id)

    return await svc.db.session(work)


def _handoff_or_ask(
    svc: Services, session: Session, member: Member, user: User, duty_id: str | None
) -> Reply:
    """Hand the member's last question over, or ask for it first.

    The last question goes along only while it is fresh and about the duty the 转人工 button
    belongs to: a question from an hour ago, or about another duty, is not what this is.
    """
    question, asked_at = member.pending_question, member.pending_question_at
    fresh = asked_at is not None and utcnow() - asked_at <= PENDING_QUESTION_FRESH
    same_duty = duty_id is None or member.pending_duty in (None, duty_id)
    if question and fresh and same_duty:
        return _hand_over(svc, session, member, user, question, duty_id or member.pending_duty)
    member.awaiting_handoff = True
    member.handoff_duty = duty_id
    member.pending_question = None
    session.add(member)
    return Reply(texts.HANDOFF_ASK)


async def human_command(update: Update, context: Context) -> None:
    svc = services(context)
    if (found := _member(update)) is None:
        return
    user, message = found
    await send(message, await _human(svc, user, message.chat_id, None))


async def _end(svc: Services, user: User, chat_id: int, *, forms_too: bool = False) -> Reply:
    """/cancel: stop what the member is doing now: a form, a 转人工 not yet asked, or a
    consultation (the one touched last when there are both)."""
    return await svc.db.session(lambda session: _end_now(svc, session, user, chat_id, forms_too))


def _end_now(svc: Services, session: Session, user: User, chat_id: int, forms_too: bool) -> Reply:
    member = touch_member(session=session, telegram_id=user.id, chat_id=chat_id)
    if member.awaiting_handoff:
        member.awaiting_handoff = False
        member.handoff_duty = None
        session.add(member)
        if forms_too:
            return Reply(texts.HANDOFF_CANCELLED)
    focus = svc.applications.active_draft(session, member)
    if forms_too and isinstance(focus, Draft):
        return svc.applications.discard(session, focus)
    case = open_consultation(session=session, member=member)
    if case is None or not end_consultation(
        session=session, casework=svc.casework, case=case, member=member
    ):
        return Reply(texts.HANDOFF_NONE_OPEN)
    return Reply(texts.HANDOFF_ENDED.format(number=case.number))


async def cancel(update: Update, context: Context) -> None:
    svc = services(context)
    if (found := _member(update)) is None:
        return
    user, message = found
    await send(message, await _end(svc, user, message.chat_id, forms_too=True))


async def button(update: Update, context: Context) -> None:
    """Every inline button; data the bot no longer knows gets 这个按钮已过期."""
    svc = services(context)
    query = update.callback_query
    if query is None or (user := update.effective_user) is None:
        return
    data = query.data or ""
    chat_id = query.message.chat.id if query.message else user.id
    if chat_id != user.id:  # buttons in groups are not the member's
        await answer_query(query, texts.BUTTON_EXPIRED)
        return
    kind, _, rest = data.partition(":")
    catalogue = svc.catalogue
    reply: Reply | None = None
    new_message = drop_old_buttons = False
    if kind in FORM_BUTTONS:

        def press(session: Session) -> Reply | None:
            member = touch_member(session=session, telegram_id=user.id, chat_id=chat_id)
            return forms.on_button(svc, session, member, user, data)

        reply = await svc.db.session(press)
        # A form moves on in new messages (the chat keeps what was asked and answered);
        # ticking a multiple choice updates its own message.
        new_message = kind in {"apply", "prof"} or (kind == "fm" and rest.split(":")[1:2] != ["t"])
        drop_old_buttons = kind in {"fm", "prof"} and new_message and reply is not None
    elif kind in CASE_BUTTONS:
        reply = await svc.db.session(lambda s: _case_button(svc, s, user, chat_id, kind, rest))
        new_message = True
    elif kind == replies.CB_MENU and not rest:
        reply = replies.menu_root(catalogue)
    elif kind == "area":
        reply = replies.menu_area(catalogue, rest)
    elif kind == "dept":
        department = replies.department_of(catalogue, rest)
        reply = replies.department_reply(catalogue, department) if department else None
    elif kind == "duty":
        duty_id, _, aspect = rest.partition(":")
        if catalogue.get(duty_id) is not None and aspect in Aspect._value2member_map_:
            reply = replies.duty_reply(
                catalogue, duty_id, Aspect(aspect), apply=svc.applications.links, forms=svc.forms
            )
    elif kind == replies.CB_FAQ and (entry := svc.faq.get(rest)) is not None:
        reply = replies.faq_reply(entry, catalogue, svc.forms)
    elif kind == replies.CB_NONE and not rest:
        reply = await _none_of_these(svc, user.id, chat_id)
    elif kind == replies.CB_HUMAN and (not rest or catalogue.get(rest) is not None):
        reply, new_message = await _human(svc, user, chat_id, rest or None), True
    elif kind == replies.CB_END and not rest:
        reply, new_message = await _end(svc, user, chat_id), True
    elif kind == CB_SENSITIVE:
        reply, new_message = await _withdraw(svc, user, chat_id, rest), True
    elif kind == CB_DELETEME and rest in {"yes", "no"}:
        reply = await _deleteme(svc, user, chat_id) if rest == "yes" else None
        reply, new_message = reply or Reply(texts.DELETEME_CANCELLED), True
    if reply is None:
        await answer_query(query, texts.BUTTON_EXPIRED)
        return
    await answer_query(query)
    if new_message:
        await send_to(context.bot, user.id, reply)
    else:
        await edit(query, reply)
    if drop_old_buttons and isinstance(query.message, Message):
        # After the answer, and behind every member's answer: taking the buttons off the
        # question just answered is tidiness, not worth a member's wait when Telegram is busy.
        drop = _drop_buttons(context.bot, query.message.chat.id, query.message.message_id)
        if context.application.running:
            context.application.create_task(drop)
        else:  # the terminal chat handles one update at a time, with nobody else waiting
            await drop


def _case_button(
    svc: Services, session: Session, user: User, chat_id: int, kind: str, rest: str
) -> Reply | None:
    """rate:<case>:<choice>, sup:<case> (补齐了), talk:<case> (not for staff): the member's
    own cases only."""
    member = touch_member(session=session, telegram_id=user.id, chat_id=chat_id)
    case_key, _, choice = rest.partition(":")
    case_id = replies.callback_number(case_key)
    case = session.get(Case, case_id) if case_id is not None else None
    if case is None or case.member_id != member.id:
        return None
    if kind == CB_RATE:
        return svc.casework.rate(session, case, member, choice)
    if kind == CB_SUPPLIED and not choice:
        return svc.casework.supplied(session, case, member)
    if kind == CB_END_TALK and not choice:
        return svc.casework.stop_talking(session, case)
    return None


async def _drop_buttons(bot: ExtBot[Any], chat_id: int, message_id: int) -> None:
    """Take the buttons off a message whose question has been answered."""
    # Already without buttons, too old to edit, or Telegram too busy: nothing is lost.
    with contextlib.suppress(TelegramError, TimeoutError):
        await asyncio.wait_for(
            bot.edit_message_reply_markup(
                chat_id, message_id, reply_markup=None, rate_limit_args=BACKGROUND
            ),
            DROP_BUTTONS_WAIT,
        )


async def _none_of_these(svc: Services, telegram_id: int, chat_id: int) -> Reply:
    def note(session: Session) -> None:
        member = touch_member(session=session, telegram_id=telegram_id, chat_id=chat_id)
        if member.pending_question:
            record_miss(
                session=session, question=member.pending_question, reason=MissReason.NONE_OF_THESE
            )

    await svc.db.session(note)
    buttons = (
        (
            replies.Button(texts.BUTTON_HUMAN, replies.CB_HUMAN),
            replies.Button(texts.BUTTON_MENU, replies.CB_MENU),
        ),
    )
    return Reply(texts.NONE_OF_THESE, buttons)


# ------------------------------------------------------------------ the member's rights

CB_DELETEME = "del"
CB_SENSITIVE = "sw"  # withdraw the consent to sensitive information ("wd" withdraws a case)


async def privacy_command(update: Update, context: Context) -> None:
    """What is kept, for how long, and the member's rights: from the settings the sweeps use."""
    if (message := update.effective_message) is not None:
        await send(message, Reply(services(context).periods.notice()))


async def withdraw_command(update: Update, context: Context) -> None:
    """The drafts and cases holding sensitive information under the separate consent, each
    with a button to withdraw it."""
    svc = services(context)
    if (found := _member(update)) is None:
        return
    user, message = found

    def holdings(session: Session) -> list[rights.Holding]:
        member = touch_member(session=session, telegram_id=user.id, chat_id=message.chat_id)
        return rights.sensitive_holdings(session, member, svc.applications.forms)

    held = await svc.db.session(holdings)
    if not held:
        await send(message, Reply(texts.WITHDRAW_NONE))
        return
    buttons = tuple(
        (replies.Button(_holding_label(h), f"{CB_SENSITIVE}:{h.kind}:{h.id}"),) for h in held
    )
    await send(message, Reply(texts.WITHDRAW_LIST, buttons))


def _holding_label(holding: rights.Holding) -> str:
    if holding.number:
        return texts.BUTTON_WITHDRAW_CASE.format(title=holding.title, number=holding.number)
    return texts.BUTTON_WITHDRAW_DRAFT.format(title=holding.title)


async def _withdraw(svc: Services, user: User, chat_id: int, rest: str) -> Reply | None:
    """sw:<c|d>:<id> asks to confirm; sw:<c|d>:<id>:yes withdraws; sw:no keeps it."""
    if rest == "no":
        return Reply(texts.WITHDRAW_CANCELLED)
    kind, _, tail = rest.partition(":")
    key, _, confirm = tail.partition(":")
    if kind not in {"c", "d"} or not key.isdigit() or confirm not in {"", "yes"}:
        return None

    def act(session: Session) -> rights.Holding | rights.Withdrawal | None:
        member = touch_member(session=session, telegram_id=user.id, chat_id=chat_id)
        if confirm:
            return rights.withdraw_sensitive(
                session,
                member,
                kind,
                int(key),
                casework=svc.casework,
                notice=texts.WITHDRAW_STAFF,
            )
        return rights.find_holding(session, member, svc.applications.forms, kind, int(key))

    done = await svc.db.session(act, attempts=1)
    if done is None:
        return Reply(texts.WITHDRAW_NOTHING)
    if isinstance(done, rights.Holding):
        buttons = (
            (
                replies.Button(texts.BUTTON_WITHDRAW_YES, f"{CB_SENSITIVE}:{rest}:yes"),
                replies.Button(texts.BUTTON_WITHDRAW_NO, f"{CB_SENSITIVE}:no"),
            ),
        )
        item = html.escape(_holding_label(done))
        return Reply(texts.WITHDRAW_CONFIRM.format(item=item), buttons)
    await asyncio.to_thread(rights.delete_files, svc.files_dir, done.files)
    await svc.db.call(forget_old_pages, svc.engine)  # nothing withdrawn left in SQLite's WAL
    log.info("a member withdrew the consent to sensitive personal information")
    fields = html.escape("、".join(done.fields)) or texts.MYDATA_NONE
    if done.number is None:
        return Reply(
            texts.WITHDRAWN_DRAFT.format(title=html.escape(done.title), fields=fields),
            ((replies.Button(texts.BUTTON_CONTINUE_APPLY, f"{FORM_CB}:{key}:K"),),),
        )
    return Reply(
        texts.WITHDRAWN_CASE.format(
            title=html.escape(done.title), number=done.number, fields=fields
        )
    )


async def mydata_command(update: Update, context: Context) -> None:
    """Everything stored about the member, unmasked (it is theirs): a summary, and the whole of
    it as a JSON file, protected from forwarding."""
    svc = services(context)
    if (found := _member(update)) is None:
        return
    user, message = found

    def gather(session: Session) -> tuple[dict[str, Any], str]:
        member = touch_member(session=session, telegram_id=user.id, chat_id=message.chat_id)
        return rights.member_data(session, member), local_time(member.created_at)

    data, first_seen = await svc.db.session(gather)
    profile = data["member"]["profile"] or {}
    cases = [
        texts.MYDATA_CASE.format(
            number=c["number"], status=texts.CASE_STATUS.get(c["status"], c["status"])
        )
        for c in data["cases"]
    ]
    kept = [
        texts.MYDATA_PROFILE_ITEM.format(label=texts.PROFILE_LABELS.get(k, k), value=v)
        for k, v in profile.items()
    ]
    summary = texts.MYDATA_HEAD.format(
        first_seen=first_seen,
        profile=html.escape("、".join(kept)) or texts.MYDATA_NONE,
        drafts=len(data["drafts"]),
        cases="、".join(cases) or texts.MYDATA_NONE,
    )
    await send(message, Reply(summary))
    content = json.dumps(data, ensure_ascii=False, indent=2).encode()
    name = texts.MYDATA_FILE.format(date=utcnow().astimezone(CHINA).strftime("%Y%m%d"))
    await context.bot.send_document(
        message.chat_id,
        InputFile(content, filename=name),
        caption=texts.MYDATA_CAPTION,
        protect_content=True,
    )


async def deleteme_command(update: Update, context: Context) -> None:
    """Asks first: what goes, what the union keeps anonymised and why."""
    if (message := update.effective_message) is None:
        return
    period = services(context).periods.words()["case"]
    buttons = (
        (
            replies.Button(texts.BUTTON_DELETEME_YES, f"{CB_DELETEME}:yes"),
            replies.Button(texts.BUTTON_DELETEME_NO, f"{CB_DELETEME}:no"),
        ),
    )
    await send(message, Reply(texts.DELETEME_CONFIRM.format(period=period), buttons))


async def _deleteme(svc: Services, user: User, chat_id: int) -> Reply:
    def erase(session: Session) -> rights.Erasure:
        member = touch_member(session=session, telegram_id=user.id, chat_id=chat_id)
        return rights.erase_member(
            session, member, casework=svc.casework, notice=texts.DELETEME_STAFF
        )

    done = await svc.db.session(erase, attempts=1)
    await asyncio.to_thread(rights.delete_files, svc.files_dir, done.files)
    await svc.db.call(forget_old_pages, svc.engine)  # nothing erased left in SQLite's WAL
    log.info("a member's personal data was erased (%d applications kept)", len(done.kept))
    text = texts.DELETEME_DONE
    if done.kept:
        text += "\n\n" + texts.DELETEME_KEPT.format(
            period=svc.periods.words()["case"], numbers=rights.numbers(done.kept)
        )
    return Reply(text)
