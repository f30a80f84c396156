"""Chat methods: chat actions, chat and member info, leaving and pinning."""

from __future__ import annotations

import pytest
from telegram import Bot, ChatMember
from telegram.error import BadRequest, Forbidden

from bot.fake import FakeTelegram, FakeUser
from tests.fake.conftest import MEMBER, STAFF_CHAT

STAFFER = FakeUser(2001, "李", "干事")


async def test_chat_action_and_get_chat(fake: FakeTelegram, bot: Bot) -> None:
    fake.register_chat(STAFF_CHAT, type="supergroup", title="权益保障部")
    assert await bot.send_chat_action(STAFF_CHAT, "typing")
    with pytest.raises(BadRequest, match=r"(?i)wrong parameter action"):
        await bot.send_chat_action(STAFF_CHAT, "dancing")
    chat = await bot.get_chat(STAFF_CHAT)
    assert (chat.id, chat.type, chat.title) == (STAFF_CHAT, "supergroup", "权益保障部")


async def test_chat_members_and_the_bot(fake: FakeTelegram, bot: Bot) -> None:
    fake.register_chat(STAFF_CHAT, type="supergroup", title="权益保障部", bot_is_admin=True)
    fake.set_member(STAFF_CHAT, STAFFER, "administrator")
    member = await bot.get_chat_member(STAFF_CHAT, STAFFER.id)
    assert (member.status, member.user.first_name) == (ChatMember.ADMINISTRATOR, "李")
    me = await bot.get_chat_member(STAFF_CHAT, bot.id)
    assert me.status == ChatMember.ADMINISTRATOR
    fake.user_message(MEMBER, text="你好")  # known to Telegram, not in the group
    assert (await bot.get_chat_member(STAFF_CHAT, MEMBER.id)).status == ChatMember.LEFT
    with pytest.raises(BadRequest, match=r"(?i)user not found"):
        await bot.get_chat_member(STAFF_CHAT, 987654)
    fake.block(MEMBER.id)
    assert (await bot.get_chat_member(MEMBER.id, bot.id)).status == ChatMember.BANNED


async def test_leaving_a_group(fake: FakeTelegram, bot: Bot) -> None:
    fake.register_chat(STAFF_CHAT, type="supergroup", title="组织部")
    assert await bot.leave_chat(STAFF_CHAT)
    with pytest.raises(Forbidden, match="bot is not a member of the supergroup chat"):
        await bot.get_chat(STAFF_CHAT)
    fake.user_message(MEMBER, text="你好")
    with pytest.raises(BadRequest, match=r"(?i)can't be changed in private chats"):
        await bot.leave_chat(MEMBER.id)


async def test_pinning_needs_admin_rights_in_groups(fake: FakeTelegram, bot: Bot) -> None:
    fake.register_chat(STAFF_CHAT, type="supergroup", title="组织部")
    card = await bot.send_message(STAFF_CHAT, "案件 HD-2026-000001")
    with pytest.raises(BadRequest, match=r"(?i)not enough rights"):
        await bot.pin_chat_message(STAFF_CHAT, card.message_id)
    fake.register_chat(STAFF_CHAT, type="supergroup", title="组织部", bot_is_admin=True)
    assert await bot.pin_chat_message(STAFF_CHAT, card.message_id)
    assert fake.message(STAFF_CHAT, card.message_id)["_pinned"] is True  # type: ignore[index]
    assert await bot.unpin_chat_message(STAFF_CHAT)
    assert "_pinned" not in fake.message(STAFF_CHAT, card.message_id)  # type: ignore[operator]
