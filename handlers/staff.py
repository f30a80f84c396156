"""The staff chats: the case card's buttons, staff replies to members, and /close.

Only people on the roster act, and only on their department's cases (the rules are in
bot/casework.py); anyone else gets a short refusal and nothing changes. Files and full personal
data go to the pressing staffer's private chat, never to the group.
"""

from __future__ import annotations

import asyncio
import contextlib

from sqlmodel import Session, select
from telegram import (
    Bot,
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
    User,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import texts
from bot.cards import CB, Act, Refusal
from bot.casework import PROMPTED, Casework
from bot.consultations import relay_to_member
from bot.replies import Button, Reply, callback_number, escape
from bot.services import Context, Services, services
from handlers.common import answer_query, markup
from knowledge.forms import content_problem
from storage.cases import case_for_reply
from storage.crypto import decrypt_bytes
from storage.models import Attachment, Case, StaffPrompt, utcnow

GROUP_ANONYMOUS_BOT = 1087968824  # the user an anonymous group admin writes as


def register(app: Application, staff_chats: set[int]) -> None:
    in_staff_chat = filters.Chat(chat_id=staff_chats) & filters.UpdateType.MESSAGE
    app.add_handler(CallbackQueryHandler(card_button, pattern=rf"^{CB}:"))
    app.add_handler(CommandHandler("close", close, filters=in_staff_chat & filters.REPLY))
    app.add_handler(MessageHandler(in_staff_chat & filters.REPLY & ~filters.COMMAND, reply))


def anonymous(message: Message) -> bool:
    """An anonymous group admin writes as the group itself: no person to hold to account."""
    return (message.sender_chat is not None and message.sender_chat.id == message.chat_id) or (
        message.from_user is not None and message.from_user.id == GROUP_ANONYMOUS_BOT
    )


def _replied_bot_message(message: Message, bot_id: int) -> Message | None:
    """The bot's message this one replies to, if it is one."""
    target = message.reply_to_message
    if target is None or target.from_user is None or target.from_user.id != bot_id:
        return None
    return target


def never_started(error: Forbidden | BadRequest) -> bool:
    """Whether a private send failed because the staffer never opened a chat with the bot."""
    return isinstance(error, Forbidden) or "chat not found" in error.message.lower()


async def ask_to_start_privately(context: Context, chat_id: int, user: User) -> None:
    """Files and full data only go privately: tell the staffer in the group how to open the
    private chat, with a button that does it."""
    start = InlineKeyboardButton(
        texts.BUTTON_START_PRIVATE, url=f"https://t.me/{context.bot.username}?start=staff"
    )
    await context.bot.send_message(
        chat_id,
        texts.STAFF_START_PRIVATE.format(staff_id=user.id, name=escape(user.full_name)),
        parse_mode=ParseMode.HTML,
        reply_markup=InlineKeyboardMarkup([[start]]),
    )


def _case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise Refusal(texts.STAFF_CASE_GONE)
    return case


# ------------------------------------------------------------------ replies in staff chats


async def reply(update: Update, context: Context) -> None:
    """A reply to a prompt carries out its action; a reply to a case message reaches the
    member; anything else said in a staff chat stays there."""
    svc = services(context)
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    if user.is_bot and not anonymous(message):
        return
    if (target := _replied_bot_message(message, context.bot.id)) is None:
        return  # staff talking among themselves
    if anonymous(message):
        await message.reply_html(texts.STAFF_ANONYMOUS)
        return
    answer = await svc.db.session(lambda session: _on_reply(svc, session, message, target, user))
    await message.reply_html(answer)


def _on_reply(
    svc: Services, session: Session, message: Message, target: Message, user: User
) -> str:
    prompt = session.exec(
        select(StaffPrompt)
        .where(StaffPrompt.chat_id == message.chat_id)
        .where(StaffPrompt.message_id == target.message_id)
    ).first()
    try:
        if prompt is not None:
            return _answer_prompt(svc, session, prompt, message, user)
        case = case_for_reply(
            session=session, chat_id=message.chat_id, message_id=target.message_id
        )
        if case is None:
            return texts.STAFF_REPLY_UNKNOWN
        staffer = svc.casework.authorize(session, user.id, case, "reply")
        if case.status.is_final:
            return texts.STAFF_CASE_CLOSED.format(number=case.number)
        has_media = message.text is None
        relay_to_member(
            session=session,
            case=case,
            staff_telegram_id=user.id,
            union=svc.settings.union_name,
            text=message.text,  # a copy carries its caption itself
            copy_of=(message.chat_id, message.message_id) if has_media else None,
        )
        svc.casework.staff_replied(session, case, staffer)
        return texts.STAFF_RELAYED.format(number=case.number)
    except Refusal as refusal:
        return refusal.text


def _answer_prompt(
    svc: Services, session: Session, prompt: StaffPrompt, message: Message, user: User
) -> str:
    if prompt.staff_telegram_id != user.id:
        svc.casework.staffer(session, user.id)  # a stranger hears only that they are one
        owner = svc.casework.staffer(session, prompt.staff_telegram_id)
        return texts.STAFF_PROMPT_NOT_YOURS.format(name=escape(owner.name))
    if prompt.used_at is not None:
        return texts.STAFF_PROMPT_USED
    words = (message.text or message.caption or "").strip()
    if not words:
        return texts.STAFF_PROMPT_EMPTY
    answer = svc.casework.with_words(
        session, _case(session, prompt.case_id), user.id, Act(prompt.action), words
    )
    prompt.used_at = utcnow()
    session.add(prompt)
    return answer


async def close(update: Update, context: Context) -> None:
    svc = services(context)
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    if anonymous(message):
        await message.reply_html(texts.STAFF_ANONYMOUS)
        return
    if (target := _replied_bot_message(message, context.bot.id)) is None:
        await message.reply_html(texts.STAFF_REPLY_UNKNOWN)
        return

    def work(session: Session) -> str:
        case = case_for_reply(
            session=session, chat_id=message.chat_id, message_id=target.message_id
        )
        if case is None:
            return texts.STAFF_REPLY_UNKNOWN
        try:
            return svc.casework.close(session, case, user.id)
        except Refusal as refusal:
            return refusal.text

    await message.reply_html(await svc.db.session(work))


# ------------------------------------------------------------------ the card's buttons


async def card_button(update: Update, context: Context) -> None:
    """sc:<case>:<act>[:<argument>]: every button on a card, refused unless on the roster."""
    svc = services(context)
    query, user = update.callback_query, update.effective_user
    if query is None or user is None or query.message is None:
        return
    parts = (query.data or "").split(":")
    case_id = callback_number(parts[1]) if len(parts) > 1 else None
    act = Act._value2member_map_.get(parts[2]) if len(parts) > 2 else None
    argument = parts[3] if len(parts) > 3 else None
    if (
        case_id is None
        or not isinstance(act, Act)
        or query.message.chat.id not in svc.settings.staff_chats()
    ):
        await answer_query(query, texts.BUTTON_EXPIRED)
        return
    try:
        toast = await _press(svc, context, query, user, case_id, act, argument)
    except Refusal as refusal:
        await answer_query(query, refusal.text)
        return
    await answer_query(query, toast, alert=False)


async def _press(
    svc: Services,
    context: Context,
    query: CallbackQuery,
    user: User,
    case_id: int,
    act: Act,
    argument: str | None,
) -> str | None:
    """Carry out a press; the text for the presser's toast, or a Refusal."""
    casework = svc.casework
    if act in PROMPTED:
        name = await svc.db.session(
            lambda s: casework.prepare(s, _case(s, case_id), user.id, act).name
        )
        await _prompt(svc, context, query, user, act, case_id, name)
        return None
    if act is Act.BACK or (act in (Act.TRANSFER, Act.REASSIGN) and argument is None):
        buttons = await svc.db.session(
            lambda s: _buttons(casework, s, _case(s, case_id), user.id, act)
        )
        with contextlib.suppress(TelegramError):
            await query.edit_message_reply_markup(reply_markup=markup(Reply("", buttons)))
        return None
    if act in (Act.MATERIALS, Act.FULL):
        case, found = await svc.db.session(
            lambda s: _view(casework, s, _case(s, case_id), user.id, act)
        )
        return await _send_privately(svc, context, query, user, act, case, found)
    chat_id = query.message.chat.id if query.message else user.id
    return await svc.db.session(
        lambda s: _act(casework, s, _case(s, case_id), user.id, act, argument, chat_id),
    )


def _buttons(
    casework: Casework, session: Session, case: Case, telegram_id: int, act: Act
) -> tuple[tuple[Button, ...], ...]:
    """A picker, or the card's own buttons again after one."""
    casework.authorize(session, telegram_id, case, act.value)
    if act is Act.TRANSFER:
        return casework.department_picker(case)
    if act is Act.REASSIGN:
        return casework.person_picker(session, case)
    return casework.card_buttons(case, casework.attachment_count(session, case))


def _view(
    casework: Casework, session: Session, case: Case, telegram_id: int, act: Act
) -> tuple[Case, list[Attachment] | str]:
    if act is Act.MATERIALS:
        return case, casework.materials(session, case, telegram_id)
    return case, casework.full_information(session, case, telegram_id)


def _act(
    casework: Casework,
    session: Session,
    case: Case,
    telegram_id: int,
    act: Act,
    argument: str | None,
    chat_id: int,
) -> str | None:
    if act is Act.ACCEPT:
        return casework.accept(session, case, telegram_id)
    if act is Act.TRANSFER and argument is not None:
        return casework.transfer(session, case, telegram_id, casework.department_at(argument))
    if act is Act.REASSIGN and (assignee := callback_number(argument or "")) is not None:
        return casework.reassign(session, case, telegram_id, assignee)
    if act is Act.OPEN:
        casework.show(session, case, chat_id, telegram_id)
        return None
    raise Refusal(texts.BUTTON_EXPIRED)


async def _prompt(
    svc: Services,
    context: Context,
    query: CallbackQuery,
    user: User,
    act: Act,
    case_id: int,
    name: str,
) -> None:
    """Ask the staffer for the words (补件原因, 办结结果 …): their reply to this carries it out."""
    assert query.message is not None
    chat_id = query.message.chat.id
    prompt = await context.bot.send_message(
        chat_id,
        texts.STAFF_PROMPT[act.value].format(staff_id=user.id, name=escape(name)),
        parse_mode=ParseMode.HTML,
        reply_markup=ForceReply(
            selective=True, input_field_placeholder=texts.STAFF_PROMPT_PLACEHOLDER[act.value]
        ),
    )
    waiting = StaffPrompt(
        chat_id=chat_id,
        message_id=prompt.message_id,
        case_id=case_id,
        action=act.value,
        staff_telegram_id=user.id,
    )
    await svc.db.session(lambda session: session.add(waiting))


async def _send_privately(
    svc: Services,
    context: Context,
    query: CallbackQuery,
    user: User,
    act: Act,
    case: Case,
    found: list[Attachment] | str,
) -> str:
    """查看材料 / 查看完整信息: to the staffer's private chat, protected, and recorded on the case
    as soon as the first message reached them. A staffer who never started the bot privately
    is told in the group how to."""
    bot = context.bot
    head = (
        found
        if isinstance(found, str)
        else texts.STAFF_PRIVATE_MATERIALS_HEAD.format(number=case.number, count=len(found))
    )
    try:
        await bot.send_message(user.id, head, parse_mode=ParseMode.HTML, protect_content=True)
    except (Forbidden, BadRequest) as error:
        if not never_started(error):
            raise
        assert query.message is not None
        await ask_to_start_privately(context, query.message.chat.id, user)
        return texts.STAFF_START_PRIVATE_SHORT
    count = 1 if isinstance(found, str) else len(found)
    await svc.db.session(
        lambda s: svc.casework.viewed(s, _case(s, case.id or 0), user.id, act, count)
    )
    if isinstance(found, str):
        return texts.STAFF_FULL_SENT
    for index, attachment in enumerate(found, 1):
        caption = svc.casework.attachment_caption(case, attachment, index, len(found))
        if attachment.kind == "photo":
            await bot.send_photo(
                user.id,
                attachment.telegram_file_id,
                caption=caption,
                parse_mode=ParseMode.HTML,
                protect_content=True,
            )
            continue
        # A document goes as our own copy, under a generated name (the sender's may mislead).
        content = await _document_content(svc, bot, attachment)
        if content is None:
            await bot.send_message(
                user.id,
                texts.STAFF_FILE_UNAVAILABLE.format(index=index),
                parse_mode=ParseMode.HTML,
                protect_content=True,
            )
            continue
        name = svc.casework.attachment_name(case, attachment, index)
        await bot.send_document(
            user.id,
            InputFile(content, filename=name),
            caption=caption,
            parse_mode=ParseMode.HTML,
            protect_content=True,
        )
    return texts.STAFF_MATERIALS_SENT.format(count=len(found))


async def _document_content(svc: Services, bot: Bot, attachment: Attachment) -> bytes | None:
    """The document's bytes: our own copy, or, when the copy is gone (a restore without the
    files directory), Telegram's, checked again to be what it was when it arrived. None if
    neither can be had: sending by file_id would show the sender's own file name."""
    copy = svc.files_dir / attachment.path if attachment.path else None
    if copy is not None and copy.is_file():
        return decrypt_bytes(await asyncio.to_thread(copy.read_bytes))
    try:
        found = await bot.get_file(attachment.telegram_file_id)
        content = bytes(await found.download_as_bytearray())
    except TelegramError:
        return None
    if content_problem((attachment.mime_type or "",), content) is not None:
        return None
    return content
