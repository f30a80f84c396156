"""The staff chats: a reply to a case message reaches the member; nothing else does."""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot import texts
from bot.consultations import end_consultation, relay_to_member
from bot.services import Context, services
from storage.cases import case_for_reply
from storage.db import session_scope
from storage.models import Actor, CaseKind


def register(app: Application, staff_chats: set[int]) -> None:
    in_staff_chat = filters.Chat(chat_id=staff_chats) & filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler("close", close, filters=in_staff_chat & filters.REPLY))
    app.add_handler(MessageHandler(in_staff_chat & filters.REPLY & ~filters.COMMAND, reply))


def _replied_case_message(message: Message, bot_id: int) -> Message | None:
    """The bot's message this one replies to, if it is one."""
    target = message.reply_to_message
    if target is None or target.from_user is None or target.from_user.id != bot_id:
        return None
    return target


async def reply(update: Update, context: Context) -> None:
    svc = services(context)
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    # An anonymous group admin writes as the group itself (user GroupAnonymousBot).
    anonymous_admin = message.sender_chat is not None and message.sender_chat.id == message.chat_id
    if user.is_bot and not anonymous_admin:
        return
    if (target := _replied_case_message(message, context.bot.id)) is None:
        return  # staff talking among themselves
    answer: str
    with session_scope(svc.engine) as session:
        case = case_for_reply(
            session=session, chat_id=message.chat_id, message_id=target.message_id
        )
        if case is None:
            answer = texts.STAFF_REPLY_UNKNOWN
        elif case.status.is_final:
            answer = texts.STAFF_CASE_CLOSED.format(number=case.number)
        else:
            has_media = message.text is None
            relay_to_member(
                session=session,
                case=case,
                staff_telegram_id=user.id,
                union=svc.settings.union_name,
                text=message.text,  # a copy carries its caption itself
                copy_of=(message.chat_id, message.message_id) if has_media else None,
            )
            answer = texts.STAFF_RELAYED.format(number=case.number)
    await message.reply_html(answer)


async def close(update: Update, context: Context) -> None:
    svc = services(context)
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    if (target := _replied_case_message(message, context.bot.id)) is None:
        await message.reply_html(texts.STAFF_REPLY_UNKNOWN)
        return
    with session_scope(svc.engine) as session:
        case = case_for_reply(
            session=session, chat_id=message.chat_id, message_id=target.message_id
        )
        if case is None:
            answer = texts.STAFF_REPLY_UNKNOWN
        elif case.kind is not CaseKind.CONSULTATION:
            # An application is accepted, completed or rejected, not just ended.
            answer = texts.STAFF_CLOSE_ONLY_CONSULTATIONS.format(number=case.number)
        elif end_consultation(
            session=session, case=case, actor=Actor.STAFF, actor_telegram_id=user.id
        ):
            answer = texts.STAFF_CLOSED.format(number=case.number)
        else:
            answer = texts.STAFF_CASE_CLOSED.format(number=case.number)
    await message.reply_html(answer)
