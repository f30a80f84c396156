"""What people do, as tests and the terminal chat simulate it: users send, edit and press;
chats are registered, blocked and unblocked; failures are injected; and what the bot did is read
back.
"""

from __future__ import annotations

import copy
import random
import secrets
import time

from bot.fake.formatting import format_text
from bot.fake.media import image_size, make_webp
from bot.fake.params import public, unix_time
from bot.fake.protocol import (
    JSON,
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    FailureMode,
    FileTuple,
)
from bot.fake.state import FakeChat, FakeState, Fault, FloodLimits, Storm, UserLike


class Simulation(FakeState):
    """The simulation side of the fake: users' actions, failure injection, inspection."""

    def register_chat(
        self,
        chat_id: int,
        *,
        type: str = "private",
        title: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        bot_is_admin: bool = False,
    ) -> JSON:
        """Creates (or updates) a chat the bot is in and returns its Chat JSON.

        Groups and supergroups have negative ids and need a title; private chats have the
        user's id. ``bot_is_admin`` lets the bot see every group message and delete others'.
        """
        if type not in ("private", "group", "supergroup", "channel"):
            raise ValueError(f"unknown chat type {type!r}")
        if type == "private" and chat_id <= 0:
            raise ValueError("private chats have the user's (positive) id")
        if type != "private" and chat_id >= 0:
            raise ValueError("group, supergroup and channel ids are negative")
        info: JSON = {"id": chat_id, "type": type}
        if type == "private":
            info["first_name"] = first_name or "User"
            if last_name:
                info["last_name"] = last_name
        else:
            info["title"] = title or f"Chat {chat_id}"
        if username:
            info["username"] = username
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None:
                chat = self._chats[chat_id] = FakeChat(info=info)
            else:
                chat.info = info
            chat.bot_is_admin = bot_is_admin
            chat.bot_left = False
            return dict(info)

    def set_member(self, chat_id: int, user: UserLike, status: str = "member") -> None:
        """Sets a user's status in a group ("creator", "administrator", "member", "left")."""
        with self._lock:
            chat = self._require_chat(chat_id)
            data = self._remember_user(user)
            chat.members[data["id"]] = (data, status)

    def user_message(
        self,
        user: UserLike,
        chat_id: int | None = None,
        text: str | None = None,
        *,
        reply_to_message_id: int | None = None,
        photo: bool | bytes = False,
        document: FileTuple | None = None,
        sticker: bool = False,
        voice: bool = False,
        location: tuple[float, float] | None = None,
        forward_from: UserLike | None = None,
        caption: str | None = None,
        file_size: int | None = None,
        enqueue: bool = True,
    ) -> JSON:
        """A user sends a message; returns the ``message`` Update (queued for getUpdates).

        ``chat_id`` defaults to the user's private chat. ``photo`` may be bytes of an image.
        ``file_size`` declares a larger size for ``document`` without allocating it. Texts over
        4096 characters raise ValueError: Telegram clients split them into several messages.
        """
        kinds = [bool(photo), document is not None, sticker, voice, location is not None]
        if sum(kinds) > 1:
            raise ValueError("a message carries at most one kind of media")
        with self._lock:
            sender = self._remember_user(user)
            chat = self._chat_for_user(sender, chat_id)
            if chat.type == "channel":
                raise ValueError("channel posts are not simulated")
            if chat.blocked and chat.type == "private":
                # A user who blocked the bot presses "Restart" before writing again.
                self._set_blocked(chat, False, by=sender, enqueue=enqueue)
            msg = self._new_message(chat, sender)
            body = caption if caption is not None else text
            if photo:
                content = photo if isinstance(photo, bytes) else None
                if content is not None and image_size(content) is None:
                    raise ValueError("photo bytes must be a JPEG, PNG, GIF or WebP image")
                msg["photo"] = self._store_photo(content)
            elif document is not None:
                name, data, mime = document
                stored = self._store_file("document", data, mime, name, size=file_size)
                msg["document"] = self._document_json(stored)
            elif sticker:
                stored = self._store_file("sticker", make_webp(512, 512), "image/webp", None)
                msg["sticker"] = {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "emoji": "👍",
                    "set_name": "FakeStickers",
                    "file_size": stored.size,
                }
            elif voice:
                stored = self._store_file("voice", b"OggS" + bytes(1020), "audio/ogg", None)
                msg["voice"] = {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "duration": 2,
                    "mime_type": "audio/ogg",
                    "file_size": stored.size,
                }
            elif location is not None:
                msg["location"] = {"latitude": location[0], "longitude": location[1]}
            has_caption_media = bool(photo) or document is not None or voice
            if has_caption_media:
                if body:
                    value, entities, _ = format_text(body)
                    if len(value) > MAX_CAPTION_LENGTH:
                        raise ValueError("captions are at most 1024 characters")
                    if value:
                        msg["caption"] = value
                        if entities:
                            msg["caption_entities"] = entities
            elif sticker or location is not None:
                if body:
                    raise ValueError("stickers and locations have no text or caption")
            else:
                value, entities, _ = format_text(body or "")
                if not value:
                    raise ValueError("a text message needs non-blank text")
                if len(value) > MAX_TEXT_LENGTH:
                    raise ValueError(
                        "Telegram clients split texts over 4096 characters into several "
                        "messages; send the parts separately"
                    )
                msg["text"] = value
                if entities:
                    msg["entities"] = entities
            if forward_from is not None:
                msg["forward_origin"] = self._origin_for(forward_from, date=unix_time() - 60)
            if reply_to_message_id is not None:
                target = chat.messages.get(reply_to_message_id)
                if target is None:
                    raise ValueError(f"no message {reply_to_message_id} in chat {chat.id}")
                msg["reply_to_message"] = self._snapshot(target)
            self._commit(chat, msg)
            if chat.type != "private":
                chat.members.setdefault(sender["id"], (sender, "member"))
            return self._emit("message", public(msg), enqueue, self._bot_sees(chat, msg))

    def _chat_for_user(self, sender: JSON, chat_id: int | None) -> FakeChat:
        chat_id = sender["id"] if chat_id is None else chat_id
        chat = self._chats.get(chat_id)
        if chat is None:
            if chat_id != sender["id"]:
                raise ValueError(f"chat {chat_id} is not registered; call register_chat() first")
            self.register_chat(
                chat_id,
                first_name=sender["first_name"],
                last_name=sender.get("last_name"),
                username=sender.get("username"),
            )
            chat = self._chats[chat_id]
        elif chat.type == "private" and chat_id != sender["id"]:
            raise ValueError("only its own user writes in a private chat")
        return chat

    def user_edits(
        self,
        user: UserLike,
        chat_id: int,
        message_id: int,
        new_text: str,
        enqueue: bool = True,
    ) -> JSON:
        """A user edits their text (or caption); returns the ``edited_message`` Update."""
        with self._lock:
            sender = self._remember_user(user)
            chat = self._require_chat(chat_id)
            msg = chat.messages.get(message_id)
            if msg is None:
                raise ValueError(f"no message {message_id} in chat {chat_id}")
            if msg["from"]["id"] != sender["id"]:
                raise ValueError("users can only edit their own messages")
            value, entities, _ = format_text(new_text)
            field_name = "text" if "text" in msg else "caption"
            if not value and field_name == "text":
                raise ValueError("a text message needs non-blank text")
            msg[field_name] = value
            entities_key = "entities" if field_name == "text" else "caption_entities"
            msg.pop(entities_key, None)
            if entities:
                msg[entities_key] = entities
            msg["edit_date"] = unix_time()
            return self._emit("edited_message", public(msg), enqueue, self._bot_sees(chat, msg))

    def press_button(
        self,
        user: UserLike,
        chat_id: int,
        message_id: int,
        callback_data: str,
        enqueue: bool = True,
    ) -> JSON:
        """A user presses an inline button; returns the ``callback_query`` Update.

        The data need not be on the message (old or forged buttons are possible on Telegram).
        """
        with self._lock:
            sender = self._remember_user(user)
            chat = self._require_chat(chat_id)
            msg = chat.messages.get(message_id)
            if msg is None:
                raise ValueError(f"no message {message_id} in chat {chat_id}")
            query_id = str(secrets.randbits(63))
            self._callback_queries[query_id] = {
                "answered": False,
                "chat_id": chat_id,
                "message_id": message_id,
                "data": callback_data,
            }
            query = {
                "id": query_id,
                "from": sender,
                "message": public(msg),
                "chat_instance": str((chat_id * 1_000_003) ^ self.bot_id),
                "data": callback_data,
            }
            return self._emit("callback_query", query, enqueue, True)

    def block(self, chat_id: int, *, enqueue: bool = True) -> JSON | None:
        """The user blocks the bot (or the bot is removed from a group).

        Sends then fail with 403. Returns the ``my_chat_member`` Update Telegram sends.
        """
        with self._lock:
            return self._set_blocked(self._require_chat(chat_id), True, by=None, enqueue=enqueue)

    def unblock(self, chat_id: int, *, enqueue: bool = True) -> JSON | None:
        """The user unblocks the bot (or adds it back); returns the ``my_chat_member`` Update."""
        with self._lock:
            chat = self._require_chat(chat_id)
            chat.bot_left = False
            return self._set_blocked(chat, False, by=None, enqueue=enqueue)

    def inject_429(
        self, count: int = 1, retry_after: int = 1, methods: set[str] | None = None
    ) -> None:
        """The next ``count`` calls (of ``methods``, or any but getUpdates) answer 429."""
        with self._lock:
            self._faults.append(Fault("429", count, self._method_set(methods), retry_after))

    def storm(
        self,
        seconds: float,
        *,
        rate_429: float = 0.3,
        rate_5xx: float = 0.1,
        retry_after: int = 1,
        seed: int = 11,
    ) -> None:
        """For ``seconds``, each message sent fails at random: 429 (``retry_after``) or 500."""
        with self._lock:
            self._storm = Storm(
                time.monotonic() + seconds, rate_429, rate_5xx, retry_after, random.Random(seed)
            )

    def pending_for(self, chat_id: int) -> list[JSON]:
        """Updates from this chat that the bot has not acknowledged yet (getUpdates offset)."""
        with self._lock:
            return [
                copy.deepcopy(update)
                for update in self._queue
                if any(
                    isinstance(part, dict)
                    and (
                        (part.get("chat") or {}).get("id") == chat_id
                        or ((part.get("message") or {}).get("chat") or {}).get("id") == chat_id
                    )
                    for part in update.values()
                )
            ]

    def take_webhook_update(self) -> JSON | None:
        """The oldest update waiting for the webhook pusher (bot.fake.webhook), if one is set."""
        with self._lock:
            if not self._webhook_url or not self._queue:
                return None
            return self._queue.pop(0)

    def webhook_backlog(self) -> int:
        with self._lock:
            return len(self._queue) if self._webhook_url else 0

    def enforce_flood_limits(
        self,
        *,
        overall_per_second: int = 30,
        private_burst: int = 3,
        private_window: float = 3.0,
        group_per_minute: int = 20,
    ) -> None:
        """Answer 429 to a bot that sends faster than Telegram allows (counted in
        ``flood_refusals``)."""
        with self._lock:
            self._flood = FloodLimits(
                overall_per_second, private_burst, private_window, group_per_minute
            )

    def fail_next(
        self, count: int = 1, method: str | None = None, mode: FailureMode = "server_error"
    ) -> None:
        """The next ``count`` calls (of ``method``, or any but getUpdates) fail.

        ``server_error``: 500 ``Internal Server Error`` (PTB raises NetworkError), nothing done.
        ``network_error``: the connection drops before Telegram gets the call (NetworkError).
        ``timeout``: Telegram carries the call out, then the answer is lost (TimedOut), so a
        retry sends a duplicate, as on the real network.
        """
        with self._lock:
            methods = self._method_set({method} if method else None)
            self._faults.append(Fault(mode, count, methods, 0))

    @staticmethod
    def _method_set(methods: set[str] | None) -> frozenset[str] | None:
        return frozenset(m.lower() for m in methods) if methods else None

    def chat(self, chat_id: int) -> JSON | None:
        with self._lock:
            chat = self._chats.get(chat_id)
            return dict(chat.info) if chat else None

    def messages(self, chat_id: int) -> list[JSON]:
        """The chat's messages in order, as they are now (edits applied, deletions gone).

        Bot messages sent with a parse mode keep the source in ``_source`` (and ``_html``).
        """
        with self._lock:
            chat = self._chats.get(chat_id)
            return copy.deepcopy(list(chat.messages.values())) if chat else []

    def message(self, chat_id: int, message_id: int) -> JSON | None:
        with self._lock:
            chat = self._chats.get(chat_id)
            msg = chat.messages.get(message_id) if chat else None
            return copy.deepcopy(msg) if msg else None

    def deleted_messages(self, chat_id: int) -> list[JSON]:
        with self._lock:
            chat = self._chats.get(chat_id)
            return copy.deepcopy(chat.deleted) if chat else []

    def bot_messages(self, chat_id: int) -> list[JSON]:
        return [m for m in self.messages(chat_id) if m["from"]["id"] == self.bot_id]

    def last_bot_message(self, chat_id: int) -> JSON | None:
        messages = self.bot_messages(chat_id)
        return messages[-1] if messages else None

    def reply_keyboard(self, chat_id: int) -> JSON | None:
        """The reply keyboard the bot last showed in the chat (None after removal)."""
        with self._lock:
            chat = self._chats.get(chat_id)
            return copy.deepcopy(chat.reply_keyboard) if chat else None

    def calls_of(self, method: str) -> list[JSON]:
        with self._lock:
            return [params for name, params in self.calls if name.lower() == method.lower()]

    def pending_updates(self) -> list[JSON]:
        """Updates queued for getUpdates and not yet confirmed."""
        with self._lock:
            return copy.deepcopy(self._queue)

    def commands_for(self, scope: str = "default", language_code: str = "") -> list[JSON]:
        """Commands set for a scope key: "default", "all_private_chats", "all_group_chats",
        "all_chat_administrators", "chat:<id>", "chat_administrators:<id>",
        "chat_member:<chat id>:<user id>"."""
        with self._lock:
            return copy.deepcopy(self.commands.get((scope, language_code), []))

    def download(self, file_path: str) -> bytes | None:
        """The content of a file by the ``file_path`` getFile gave, or None."""
        with self._lock:
            file_id = self._paths.get(file_path)
            return self._files[file_id].content if file_id else None
