"""Bot API methods about chats: chat actions, getChat, getChatMember, leaving and pinning."""

from __future__ import annotations

from bot.fake.protocol import CHAT_ACTIONS, JSON, FileTuple, bad, forbidden
from bot.fake.state import FakeState


class ChatMethods(FakeState):
    """Chat actions, chat and member info, leaving, pinning."""

    def _api_sendChatAction(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        chat = self._resolve_chat(params.get("chat_id"))
        if str(params.get("action") or "").lower() not in CHAT_ACTIONS:
            raise bad("wrong parameter action in request")
        self._check_can_send(chat)
        return True

    def _api_getChat(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        chat = self._resolve_chat(params.get("chat_id"))
        if chat.bot_left and chat.type != "private":
            raise forbidden(f"bot is not a member of the {chat.type} chat")
        return {
            **chat.info,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _api_getChatMember(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        chat = self._resolve_chat(params.get("chat_id"))
        user_id = params.get("user_id", 0)
        if user_id <= 0:
            raise bad("invalid user_id specified")
        if user_id == self.bot_id:
            if chat.blocked:
                status = "kicked"
            elif chat.bot_left:
                status = "left"
            else:
                status = "administrator" if chat.bot_is_admin else "member"
            return self._member_json(self.bot_user, status)
        if chat.type == "private":
            if user_id != chat.id:
                raise bad("user not found")
            return self._member_json(self._users.get(user_id, {"id": user_id}), "member")
        if user_id in chat.members:
            user, status = chat.members[user_id]
            return self._member_json(user, status)
        if user_id in self._users:
            return self._member_json(self._users[user_id], "left")
        raise bad("user not found")

    def _api_leaveChat(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        chat = self._resolve_chat(params.get("chat_id"))
        if chat.type == "private":
            raise bad("chat member status can't be changed in private chats")
        if chat.bot_left:
            raise forbidden(f"bot is not a member of the {chat.type} chat")
        chat.bot_left = True
        return True

    def _api_pinChatMessage(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        chat = self._resolve_chat(params.get("chat_id"))
        msg = chat.messages.get(params.get("message_id") or 0)
        if msg is None:
            raise bad("message to pin not found")
        if chat.type in ("group", "supergroup") and not chat.bot_is_admin:
            raise bad("not enough rights to manage pinned messages in the chat")
        msg["_pinned"] = True
        return True

    def _api_unpinChatMessage(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        chat = self._resolve_chat(params.get("chat_id"))
        if chat.type in ("group", "supergroup") and not chat.bot_is_admin:
            raise bad("not enough rights to manage pinned messages in the chat")
        for msg in chat.messages.values():
            msg.pop("_pinned", None)
        return True
