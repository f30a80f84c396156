"""What a member can do in a private chat: ask, browse, and reach a person."""

from __future__ import annotations

from sqlmodel import Session
from telegram import Message, Update, User
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import texts
from bot.consultations import end_consultation, relay_to_staff, start_consultation
from bot.services import Context, Services, services
from handlers.common import edit, send
from knowledge import answers
from knowledge.answers import Reply
from knowledge.catalogue import Aspect
from storage.cases import open_consultation, record_miss, touch_member
from storage.db import session_scope
from storage.models import Actor, Member, MissReason

PRIVATE = filters.ChatType.PRIVATE
HUMAN_INTENT = "human"  # the lexicon's small-talk intent for 转人工
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
    app.add_handler(CallbackQueryHandler(button))
    app.add_handler(MessageHandler(PRIVATE & NEW_MESSAGE & filters.TEXT & ~filters.COMMAND, text))
    app.add_handler(MessageHandler(PRIVATE & NEW_MESSAGE & MEDIA, media))
    # Any other command in a private chat: say what the bot understands.
    app.add_handler(MessageHandler(PRIVATE & NEW_MESSAGE & filters.COMMAND, unknown_command))


def _label(user: User) -> str:
    name = user.full_name
    return f"{name} (@{user.username})" if user.username else name


def _member(update: Update) -> tuple[User, Message] | None:
    if (user := update.effective_user) is None or (message := update.effective_message) is None:
        return None
    return user, message


async def start(update: Update, context: Context) -> None:
    if (message := update.effective_message) is None:
        return
    union = services(context).settings.union_name
    await message.reply_html(texts.WELCOME.format(union=union), do_quote=False)


async def help_command(update: Update, context: Context) -> None:
    if (message := update.effective_message) is not None:
        await message.reply_html(texts.HELP, do_quote=False)


async def unknown_command(update: Update, context: Context) -> None:
    """A command the bot does not have gets the help; one meant for another bot, nothing."""
    if (message := update.effective_message) is None or not message.text:
        return
    command = message.text.split()[0]
    _, _, addressee = command.partition("@")
    if addressee and addressee.lower() != (context.bot.username or "").lower():
        return
    await message.reply_html(texts.HELP, do_quote=False)


async def menu(update: Update, context: Context) -> None:
    if (message := update.effective_message) is not None:
        await send(message, answers.menu_root(services(context).catalogue))


async def text(update: Update, context: Context) -> None:
    svc = services(context)
    if (found := _member(update)) is None or found[1].text is None:
        return
    user, message = found
    question = message.text or ""
    with session_scope(svc.engine) as session:
        member = touch_member(session=session, telegram_id=user.id, chat_id=message.chat_id)
        if (case := open_consultation(session=session, member=member)) is not None:
            relay_to_staff(session=session, case=case, text=question)
            reply = Reply(texts.HANDOFF_RELAYED.format(number=case.number), _end_button())
        elif member.awaiting_handoff:
            reply = _hand_over(svc, session, member, user, question, None)
        elif (route := svc.router.route(question)).topic == HUMAN_INTENT:
            reply = _handoff_or_ask(svc, session, member, user, None)
        else:
            said = answers.answer(
                svc.catalogue,
                route,
                confident_score=svc.settings.confident_score,
                union=svc.settings.union_name,
            )
            if said.miss is not None:
                reason = MissReason(said.miss.value)
                record_miss(session=session, question=question, reason=reason, guess=said.guess)
            member.pending_question = question if route.kind != "smalltalk" else None
            session.add(member)
            reply = said.reply
    await send(message, reply)


async def media(update: Update, context: Context) -> None:
    """Photos, files, stickers …: passed on in a consultation, otherwise a friendly word."""
    svc = services(context)
    if (found := _member(update)) is None:
        return
    user, message = found
    with session_scope(svc.engine) as session:
        member = touch_member(session=session, telegram_id=user.id, chat_id=message.chat_id)
        case = open_consultation(session=session, member=member)
        if case is not None:
            relay_to_staff(
                session=session,
                case=case,
                text=message.caption,
                copy_of=(message.chat_id, message.message_id),
            )
            reply = Reply(texts.HANDOFF_RELAYED.format(number=case.number), _end_button())
        else:
            reply = Reply(
                texts.MEDIA_NOT_UNDERSTOOD,
                ((answers.Button(texts.BUTTON_HUMAN, answers.CB_HUMAN),),),
            )
    await send(message, reply)


def _end_button() -> tuple[tuple[answers.Button, ...], ...]:
    return ((answers.Button(texts.BUTTON_END, answers.CB_END),),)


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
        if route.duty is not None and route.score >= svc.settings.confident_score:
            duty_id = route.duty
    duty = svc.catalogue.get(duty_id) if duty_id else None
    case = start_consultation(
        session=session,
        catalogue=svc.catalogue,
        member=member,
        member_label=_label(user),
        question=question,
        duty_id=duty_id,
        staff_chat_id=svc.settings.staff_chat_for(duty.department if duty else None),
    )
    return Reply(texts.HANDOFF_DONE.format(number=case.number), _end_button())


async def _human(svc: Services, user: User, chat_id: int, duty_id: str | None) -> Reply:
    with session_scope(svc.engine) as session:
        member = touch_member(session=session, telegram_id=user.id, chat_id=chat_id)
        if (case := open_consultation(session=session, member=member)) is not None:
            return Reply(texts.HANDOFF_DONE.format(number=case.number), _end_button())
        return _handoff_or_ask(svc, session, member, user, duty_id)


def _handoff_or_ask(
    svc: Services, session: Session, member: Member, user: User, duty_id: str | None
) -> Reply:
    """Hand the member's last question over, or ask for it first."""
    if member.pending_question:
        return _hand_over(svc, session, member, user, member.pending_question, duty_id)
    member.awaiting_handoff = True
    session.add(member)
    return Reply(texts.HANDOFF_ASK)


async def human_command(update: Update, context: Context) -> None:
    svc = services(context)
    if (found := _member(update)) is None:
        return
    user, message = found
    await send(message, await _human(svc, user, message.chat_id, None))


async def _end(svc: Services, user: User, chat_id: int) -> Reply:
    with session_scope(svc.engine) as session:
        member = touch_member(session=session, telegram_id=user.id, chat_id=chat_id)
        member.awaiting_handoff = False
        session.add(member)
        case = open_consultation(session=session, member=member)
        if case is None or not end_consultation(
            session=session, case=case, actor=Actor.MEMBER, actor_telegram_id=user.id
        ):
            return Reply(texts.HANDOFF_NONE_OPEN)
        return Reply(texts.HANDOFF_ENDED.format(number=case.number))


async def cancel(update: Update, context: Context) -> None:
    svc = services(context)
    if (found := _member(update)) is None:
        return
    user, message = found
    await send(message, await _end(svc, user, message.chat_id))


async def button(update: Update, context: Context) -> None:
    """Every inline button; data the bot no longer knows gets 这个按钮已过期."""
    svc = services(context)
    query = update.callback_query
    if query is None or (user := update.effective_user) is None:
        return
    data = query.data or ""
    chat_id = query.message.chat.id if query.message else user.id
    if chat_id != user.id:  # buttons in groups are not the member's
        await query.answer(texts.BUTTON_EXPIRED, show_alert=True)
        return
    kind, _, rest = data.partition(":")
    catalogue = svc.catalogue
    reply: Reply | None = None
    new_message = False
    if kind == answers.CB_MENU and not rest:
        reply = answers.menu_root(catalogue)
    elif kind == "area":
        reply = answers.menu_area(catalogue, rest)
    elif kind == "dept":
        reply = answers.department_reply(catalogue, rest)
    elif kind == "duty":
        duty_id, _, aspect = rest.partition(":")
        if catalogue.get(duty_id) is not None and aspect in Aspect._value2member_map_:
            reply = answers.duty_reply(catalogue, duty_id, Aspect(aspect))
    elif kind == answers.CB_NONE and not rest:
        reply = _none_of_these(svc, user.id, chat_id)
    elif kind == answers.CB_HUMAN and (not rest or catalogue.get(rest) is not None):
        reply, new_message = await _human(svc, user, chat_id, rest or None), True
    elif kind == answers.CB_END and not rest:
        reply, new_message = await _end(svc, user, chat_id), True
    if reply is None:
        await query.answer(texts.BUTTON_EXPIRED, show_alert=True)
        return
    await query.answer()
    if new_message and query.message is not None and isinstance(query.message, Message):
        await send(query.message, reply)
    else:
        await edit(query, reply)


def _none_of_these(svc: Services, telegram_id: int, chat_id: int) -> Reply:
    with session_scope(svc.engine) as session:
        member = touch_member(session=session, telegram_id=telegram_id, chat_id=chat_id)
        if member.pending_question:
            record_miss(
                session=session, question=member.pending_question, reason=MissReason.NONE_OF_THESE
            )
    buttons = (
        (
            answers.Button(texts.BUTTON_HUMAN, answers.CB_HUMAN),
            answers.Button(texts.BUTTON_MENU, answers.CB_MENU),
        ),
    )
    return Reply(texts.NONE_OF_THESE, buttons)
