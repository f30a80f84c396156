"""Bot API methods about the bot itself: getMe, webhooks, getUpdates, commands, the menu
button, and its name and descriptions.
"""

from __future__ import annotations

import copy
import json
import re
import time
from typing import Any

from bot.fake.params import chat_ref, to_int
from bot.fake.protocol import (
    CONFLICT_WEBHOOK,
    DEFAULT_ALLOWED_UPDATES,
    JSON,
    MAX_POLL_TIMEOUT,
    ApiError,
    FileTuple,
    bad,
)
from bot.fake.state import FakeState, PollTicket

# What Telegram accepts as a webhook's secret_token.
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


class BotMethods(FakeState):
    """getMe, webhooks, getUpdates, commands, menu button, name and descriptions."""

    def _api_getMe(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _api_logOut(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        return True

    def _api_close(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        return True

    def _api_setWebhook(self, params: JSON, files: dict[str, FileTuple]) -> tuple[bool, str]:
        url = str(params.get("url") or "")
        if url and not url.lower().startswith("https://"):
            raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = str(params.get("secret_token") or "")
        if secret and not SECRET_TOKEN.fullmatch(secret):
            raise bad("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._queue.clear()
        if url:
            self._webhook_url = url
            self.webhook_secret = secret
            allowed = params.get("allowed_updates")
            if isinstance(allowed, str):
                allowed = json.loads(allowed)
            self.webhook_allowed_updates = list(allowed or [])
            if allowed:
                self._allowed_updates = frozenset(str(a) for a in allowed)
            self.interrupt_polls()
            return True, "Webhook was set"
        was_set = bool(self._webhook_url)
        self._webhook_url = ""
        return True, "Webhook was deleted" if was_set else "Webhook is already deleted"

    def _api_deleteWebhook(self, params: JSON, files: dict[str, FileTuple]) -> tuple[bool, str]:
        if params.get("drop_pending_updates"):
            self._queue.clear()
        was_set = bool(self._webhook_url)
        self._webhook_url = ""
        return True, "Webhook was deleted" if was_set else "Webhook is already deleted"

    def _api_getWebhookInfo(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        info: JSON = {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }
        if self._webhook_url:
            info["max_connections"] = 40
            if self.webhook_allowed_updates:
                info["allowed_updates"] = self.webhook_allowed_updates
        return info

    def _api_getUpdates(self, params: JSON, files: dict[str, FileTuple]) -> PollTicket:
        if self._webhook_url:
            raise ApiError(409, CONFLICT_WEBHOOK)
        offset = params.get("offset", 0)
        limit = min(max(params.get("limit", 100) or 100, 1), 100)
        timeout = min(max(params.get("timeout", 0), 0), MAX_POLL_TIMEOUT)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(str(a) for a in allowed) or DEFAULT_ALLOWED_UPDATES
        if offset > 0:
            self._queue = [u for u in self._queue if u["update_id"] >= offset]
        elif offset < 0:
            self._queue = self._queue[offset:]
        self._poll_generation += 1
        self._cond.notify_all()
        return PollTicket(self._poll_generation, limit, time.monotonic() + timeout)

    def _scope_key(self, scope: Any) -> str:
        if scope is None:
            return "default"
        if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
            raise bad("can't parse BotCommandScope JSON object")
        kind = scope["type"]
        if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            return str(kind)
        if kind not in ("chat", "chat_administrators", "chat_member"):
            raise bad("wrong bot command scope type specified")
        chat = self._resolve_chat(chat_ref(scope.get("chat_id", "")))
        if kind != "chat" and chat.type == "private":
            raise bad("can't use specified scope in private chats")
        if kind == "chat_member":
            user_id = to_int(scope.get("user_id"))
            if user_id <= 0:
                raise bad("invalid user_id specified")
            return f"chat_member:{chat.id}:{user_id}"
        return f"{kind}:{chat.id}"

    @staticmethod
    def _language(params: JSON) -> str:
        language = str(params.get("language_code") or "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad("invalid language code specified")
        return language

    def _api_setMyCommands(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        commands = params.get("commands", [])
        if not isinstance(commands, list):
            raise bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad("BOT_COMMANDS_TOO_MUCH")
        clean: list[JSON] = []
        for item in commands:
            if not isinstance(item, dict):
                raise bad("can't parse BotCommand: BotCommand must be an Object")
            command = str(item.get("command") or "").removeprefix("/")
            description = str(item.get("description") or "")
            if not command:
                raise bad("command must be non-empty")
            if len(command) > 32:
                raise bad("command length must not exceed 32")
            if not description.strip():
                raise bad("command description must be non-empty")
            if len(description) > 256:
                raise bad("command description length must not exceed 256")
            if not re.fullmatch(r"[a-z0-9_]+", command):
                raise bad("BOT_COMMAND_INVALID")
            clean.append({"command": command, "description": description})
        key = (self._scope_key(params.get("scope")), self._language(params))
        if clean:
            self.commands[key] = clean
        else:
            self.commands.pop(key, None)
        return True

    def _api_getMyCommands(self, params: JSON, files: dict[str, FileTuple]) -> list[JSON]:
        key = (self._scope_key(params.get("scope")), self._language(params))
        return copy.deepcopy(self.commands.get(key, []))

    def _api_deleteMyCommands(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        key = (self._scope_key(params.get("scope")), self._language(params))
        self.commands.pop(key, None)
        return True

    def _api_setChatMenuButton(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        chat_id: int | None = None
        if params.get("chat_id") not in (None, ""):
            chat = self._resolve_chat(params["chat_id"])
            if chat.type != "private":
                raise bad("chat_id must be a private chat")
            chat_id = chat.id
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in (
            "default",
            "commands",
            "web_app",
        ):
            raise bad("can't parse menu button: MenuButton must be an Object")
        self.menu_buttons[chat_id] = dict(button)
        return True

    def _api_getChatMenuButton(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        chat_id = None
        if params.get("chat_id") not in (None, ""):
            chat_id = self._resolve_chat(params["chat_id"]).id
        button = self.menu_buttons.get(chat_id) or self.menu_buttons.get(None)
        return dict(button or {"type": "default"})

    def _set_text_setting(self, params: JSON, kind: str, key: str, limit: int) -> bool:
        value = str(params.get(key) or "")
        if len(value) > limit:
            raise bad(f"bot {kind} is too long")
        self._descriptions[(kind, self._language(params))] = value
        return True

    def _get_text_setting(self, params: JSON, kind: str, key: str) -> JSON:
        return {key: self._descriptions.get((kind, self._language(params)), "")}

    def _api_setMyDescription(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        return self._set_text_setting(params, "description", "description", 512)

    def _api_getMyDescription(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        return self._get_text_setting(params, "description", "description")

    def _api_setMyShortDescription(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        return self._set_text_setting(params, "short description", "short_description", 120)

    def _api_getMyShortDescription(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        return self._get_text_setting(params, "short description", "short_description")

    def _api_setMyName(self, params: JSON, files: dict[str, FileTuple]) -> bool:
        return self._set_text_setting(params, "name", "name", 64)

    def _api_getMyName(self, params: JSON, files: dict[str, FileTuple]) -> JSON:
        result = self._get_text_setting(params, "name", "name")
        return {"name": result["name"] or self.bot_name}
