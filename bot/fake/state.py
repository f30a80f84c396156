"""The fake's state and its core: chats, users, messages, files, the update queue, faults,
and the dispatch of one Bot API call to its method.
"""

from __future__ import annotations

import copy
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from telegram import Bot

from bot.fake.formatting import utf16_slice
from bot.fake.media import FILE_ID_PREFIX, StoredFile, image_size, make_jpeg, photo_dimensions
from bot.fake.params import decode_params, public, unix_time
from bot.fake.protocol import (
    CONFLICT_OTHER_POLL,
    DEFAULT_ALLOWED_UPDATES,
    JSON,
    ApiError,
    FileTuple,
    SimulatedNetworkFailure,
    bad,
    forbidden,
)


@dataclass(frozen=True)
class FakeUser:
    """A Telegram user for simulations. ``forward_privacy`` hides them in forwards."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "zh-hans"
    is_bot: bool = False
    forward_privacy: bool = False

    def to_dict(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


UserLike = Mapping[str, Any] | FakeUser


@dataclass
class FakeChat:
    info: JSON
    messages: dict[int, JSON] = field(default_factory=dict)
    deleted: list[JSON] = field(default_factory=list)
    next_message_id: int = 1
    blocked: bool = False
    bot_left: bool = False
    bot_is_admin: bool = False
    members: dict[int, tuple[JSON, str]] = field(default_factory=dict)
    reply_keyboard: JSON | None = None

    @property
    def id(self) -> int:
        return int(self.info["id"])

    @property
    def type(self) -> str:
        return str(self.info["type"])


@dataclass
class Fault:
    kind: str  # "429", "server_error", "network_error", "timeout"
    remaining: int
    methods: frozenset[str] | None
    retry_after: int = 0


@dataclass
class Storm:
    until: float
    rate_429: float
    rate_5xx: float
    retry_after: int
    random: Any


@dataclass(frozen=True)
class FloodLimits:
    overall_per_second: int = 30
    private_burst: int = 3
    private_window: float = 3.0
    group_per_minute: int = 20


# Methods that put a message in a chat (or change one): what Telegram's flood limits count.
_SENDING = frozenset(
    {
        "sendmessage",
        "sendphoto",
        "senddocument",
        "copymessage",
        "forwardmessage",
        "editmessagetext",
        "editmessagereplymarkup",
        "editmessagecaption",
        "sendmediagroup",
    }
)


def _chat_of(params: Mapping[str, Any]) -> int:
    try:
        return int(params.get("chat_id") or 0)
    except (TypeError, ValueError):
        return 0


@dataclass
class PollTicket:
    generation: int
    limit: int
    deadline: float


def _api_methods() -> dict[str, str]:
    names: dict[str, str] = {}
    for name in dir(Bot):
        if (
            name[:1].islower()
            and "_" not in name
            and name not in ("initialize", "shutdown")
            and callable(getattr(Bot, name, None))
        ):
            names[name.lower()] = name
    return names


_REAL_API_METHODS = _api_methods()
_TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]+")


class FakeState:
    """The state of a fake Bot API server: chats, messages, files, updates and failures.

    The method families (:mod:`bot.fake.api_bot`, :mod:`bot.fake.api_messages`,
    :mod:`bot.fake.api_chats`) and the simulation (:mod:`bot.fake.simulation`) extend it;
    :class:`bot.fake.api.FakeTelegram` puts them together. Thread-safe: it is used from
    asyncio (in-process) and from HTTP server threads at once.
    """

    #: The Bot API methods answered, by lower-case name: each ``_api_<name>`` method.
    _implemented: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._implemented = {
            name[5:].lower(): name[5:] for name in dir(cls) if name.startswith("_api_")
        }

    def __init__(
        self,
        token: str = "123456:TEST",
        bot_username: str = "hedong_union_bot",
        bot_name: str = "河东区总工会服务助手",
        *,
        privacy_mode: bool = True,
    ) -> None:
        if not _TOKEN_RE.fullmatch(token):
            raise ValueError("a bot token looks like '<digits>:<letters>'")
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.privacy_mode = privacy_mode

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._chats: dict[int, FakeChat] = {}
        self._users: dict[int, JSON] = {}
        self._hidden_forwarders: set[int] = set()
        self._files: dict[str, StoredFile] = {}
        self._photo_sets: dict[str, list[str]] = {}
        self._paths: dict[str, str] = {}
        self._file_counter = 0
        self._queue: list[JSON] = []
        self._last_update_id = 100_000
        self._allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self._poll_generation = 0
        self._interrupted_upto = 0
        self._webhook_url = ""
        self.webhook_secret = ""  # what the bot asked Telegram to send with each webhook
        self.webhook_allowed_updates: list[str] = []
        self._callback_queries: dict[str, JSON] = {}
        self._faults: list[Fault] = []
        self._descriptions: dict[tuple[str, str], str] = {}

        #: Every Bot API call: (method name, decoded parameters). Uploads appear as
        #: ``{"upload": file name, "size": bytes, "mime_type": ...}`` under their field.
        self.calls: list[tuple[str, JSON]] = []
        #: Every error answer: (method, HTTP status, description).
        self.errors: list[tuple[str, int, str]] = []
        #: Parameters of every successful answerCallbackQuery.
        self.callback_answers: list[JSON] = []
        #: setMyCommands results by (scope key, language code); see :meth:`commands_for`.
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        #: setChatMenuButton results by chat id (None: the default button).
        self.menu_buttons: dict[int | None, JSON] = {}
        #: Updates Telegram would not deliver to the bot (group privacy mode).
        self.undelivered: list[JSON] = []
        #: Every message the bot got through to a chat: (monotonic time, method, chat id).
        self.sends: list[tuple[float, str, int]] = []
        #: A storm of failures (429 and 5xx at random) until a monotonic time; see storm().
        self._storm: Storm | None = None
        self.storm_failures = {"429": 0, "5xx": 0}  # what storms injected
        #: Telegram's flood limits, answered with 429 when set (see enforce_flood_limits()).
        self._flood: FloodLimits | None = None
        #: How many sends were refused for going faster than Telegram allows.
        self.flood_refusals = 0
        self.flood_refusals_by: dict[str, int] = {}
        #: How many messages the bot has posted in each chat (cheap to watch from a thread).
        self.posted: dict[int, int] = {}

    @property
    def bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    def check_token(self, token: str) -> tuple[int, JSON] | None:
        """None if the token is the bot's, else Telegram's answer (401 or 404)."""
        if token == self.token:
            return None
        if _TOKEN_RE.fullmatch(token):
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}

    def handle(
        self,
        method: str,
        params: Mapping[str, Any],
        files: Mapping[str, FileTuple] | None = None,
        *,
        abandoned: Callable[[], bool] | None = None,
    ) -> tuple[int, JSON]:
        """Answers one Bot API call: (HTTP status, Telegram's JSON answer).

        getUpdates long-polls (blocks this thread up to ``timeout`` seconds; ``abandoned``
        tells it the client went away, so it stops quietly). Raises
        :class:`SimulatedNetworkFailure` for injected network failures.
        """
        outcome = self._dispatch(method, params, files)
        if isinstance(outcome, PollTicket):
            return self._wait_ticket(outcome, abandoned)
        return outcome

    def _dispatch(
        self,
        method: str,
        params: Mapping[str, Any],
        files: Mapping[str, FileTuple] | None,
    ) -> tuple[int, JSON] | PollTicket:
        """Answers a call, or returns a ticket for a getUpdates that has to wait."""
        lowered = method.lower()
        name = self._implemented.get(lowered) or _REAL_API_METHODS.get(lowered) or method
        file_map = dict(files or {})
        with self._lock:
            raw = {k: v for k, v in params.items() if v is not None}
            self.calls.append((name, {**raw, **_describe_uploads(file_map)}))
            fault = None
            try:
                decoded = decode_params(params)
                self.calls[-1] = (name, {**decoded, **_describe_uploads(file_map)})
                if lowered not in self._implemented:
                    if lowered in _REAL_API_METHODS:
                        raise ApiError(
                            501, f"Not Implemented: the fake Telegram has no {name} method"
                        )
                    raise ApiError(404, "Not Found")
                fault = self._take_fault(lowered) or self._storm_fault(lowered)
                if fault is None and lowered in _SENDING:
                    self._check_flood(decoded)
                if fault is not None:
                    if fault.kind == "429":
                        raise ApiError(
                            429,
                            f"Too Many Requests: retry after {fault.retry_after}",
                            {"retry_after": fault.retry_after},
                        )
                    if fault.kind == "server_error":
                        raise ApiError(500, "Internal Server Error")
                    if fault.kind == "network_error":
                        raise SimulatedNetworkFailure(processed=False)
                handler = getattr(self, "_api_" + self._implemented[lowered])
                result = handler(decoded, file_map)
                if isinstance(result, PollTicket):
                    return result
                if fault is not None and fault.kind == "timeout":
                    raise SimulatedNetworkFailure(processed=True)
                if lowered in _SENDING:
                    self.sends.append((time.monotonic(), name, _chat_of(decoded)))
                if isinstance(result, tuple):  # (result, description)
                    return 200, {"ok": True, "result": result[0], "description": result[1]}
                return 200, {"ok": True, "result": public(result)}
            except ApiError as exc:
                self.errors.append((name, exc.code, exc.description))
                return exc.code, exc.payload()

    def _storm_fault(self, lowered: str) -> Fault | None:
        storm = self._storm
        if storm is None or lowered == "getupdates" or lowered not in _SENDING:
            return None
        if time.monotonic() >= storm.until:
            self._storm = None
            return None
        roll = storm.random.random()
        if roll < storm.rate_429:
            self.storm_failures["429"] += 1
            return Fault("429", 1, None, storm.retry_after)
        if roll < storm.rate_429 + storm.rate_5xx:
            self.storm_failures["5xx"] += 1
            return Fault("server_error", 1, None)
        return None

    def _check_flood(self, params: Mapping[str, Any]) -> None:
        """Answer 429 as Telegram does when a bot sends faster than it allows."""
        limits = self._flood
        if limits is None:
            return
        now = time.monotonic()
        chat = _chat_of(params)
        recent = [(at, c) for at, _, c in self.sends[-2000:] if at > now - 60]
        overall = sum(1 for at, _ in recent if at > now - 1)
        in_chat = [at for at, c in recent if c == chat]
        if chat < 0:
            too_many = len(in_chat) >= limits.group_per_minute
        else:
            too_many = sum(1 for at in in_chat if at > now - limits.private_window) >= (
                limits.private_burst
            )
        if overall >= limits.overall_per_second or too_many:
            self.flood_refusals += 1
            kind = (
                "overall"
                if overall >= limits.overall_per_second
                else ("group" if chat < 0 else "private")
            )
            self.flood_refusals_by[kind] = self.flood_refusals_by.get(kind, 0) + 1
            raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})

    def _take_fault(self, lowered: str) -> Fault | None:
        for fault in self._faults:
            matches = (
                lowered in fault.methods if fault.methods is not None else lowered != "getupdates"
            )
            if matches and fault.remaining > 0:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _poll_step(self, ticket: PollTicket) -> tuple[int, JSON] | None:
        """One look at the queue for a waiting getUpdates: its answer, or None to keep waiting."""
        with self._lock:
            if ticket.generation != self._poll_generation:
                if ticket.generation <= self._interrupted_upto:
                    return 200, {"ok": True, "result": []}
                self.errors.append(("getUpdates", 409, CONFLICT_OTHER_POLL))
                return 409, {"ok": False, "error_code": 409, "description": CONFLICT_OTHER_POLL}
            if self._queue:
                return 200, {"ok": True, "result": copy.deepcopy(self._queue[: ticket.limit])}
            if time.monotonic() >= ticket.deadline:
                return 200, {"ok": True, "result": []}
            return None

    def _wait_ticket(
        self, ticket: PollTicket, abandoned: Callable[[], bool] | None = None
    ) -> tuple[int, JSON]:
        with self._cond:
            while True:
                if abandoned is not None and abandoned():
                    return 200, {"ok": True, "result": []}  # nobody will read the answer
                answer = self._poll_step(ticket)
                if answer is not None:
                    return answer
                self._cond.wait(timeout=max(0.0, min(ticket.deadline - time.monotonic(), 0.2)))

    def interrupt_polls(self) -> None:
        """Makes waiting getUpdates calls return [] now (used when a server stops)."""
        with self._cond:
            self._interrupted_upto = self._poll_generation
            self._poll_generation += 1
            self._cond.notify_all()

    def _remember_user(self, user: UserLike) -> JSON:
        if isinstance(user, FakeUser):
            data = user.to_dict()
            if user.forward_privacy:
                self._hidden_forwarders.add(user.id)
        else:
            if "id" not in user or "first_name" not in user:
                raise ValueError("a user needs 'id' and 'first_name'")
            data = {k: v for k, v in user.items() if v is not None and not str(k).startswith("_")}
            data.setdefault("is_bot", False)
            data["id"] = int(data["id"])
        self._users[data["id"]] = data
        return dict(data)

    def _require_chat(self, chat_id: int) -> FakeChat:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise ValueError(f"chat {chat_id} is not registered; call register_chat() first")
        return chat

    def _resolve_chat(self, value: Any, *, empty: str = "chat_id is empty") -> FakeChat:
        if value is None or value == "":
            raise bad(empty)
        if isinstance(value, str):
            username = value.removeprefix("@").lower()
            for chat in self._chats.values():
                if str(chat.info.get("username", "")).lower() == username and value[:1] == "@":
                    return chat
            raise bad("chat not found")
        found = self._chats.get(int(value))
        if found is None:
            raise bad("chat not found")
        return found

    def _send_target(self, value: Any) -> FakeChat:
        """The chat a message goes to. A user Telegram knows who never opened a private chat
        with the bot cannot be written to first (403), as on Telegram."""
        user_id = int(value) if isinstance(value, int) and not isinstance(value, bool) else 0
        if user_id > 0 and user_id not in self._chats and user_id in self._users:
            raise forbidden("bot can't initiate conversation with a user")
        return self._resolve_chat(value)

    @staticmethod
    def _check_can_send(chat: FakeChat) -> None:
        kind = "supergroup chat" if chat.type == "supergroup" else f"{chat.type} chat"
        if chat.blocked:
            if chat.type == "private":
                raise forbidden("bot was blocked by the user")
            raise forbidden(f"bot was kicked from the {kind}")
        if chat.bot_left:
            raise forbidden(f"bot is not a member of the {kind}")

    def _new_message(self, chat: FakeChat, sender: JSON) -> JSON:
        msg: JSON = {
            "message_id": chat.next_message_id,
            "from": dict(sender),
            "chat": dict(chat.info),
            "date": unix_time(),
        }
        chat.next_message_id += 1
        return msg

    def _commit(self, chat: FakeChat, msg: JSON) -> None:
        chat.messages[msg["message_id"]] = msg
        if msg["from"]["id"] == self.bot_id:
            self.posted[chat.id] = self.posted.get(chat.id, 0) + 1

    @staticmethod
    def _snapshot(msg: JSON) -> JSON:
        snapshot = public(msg)
        snapshot.pop("reply_to_message", None)
        return dict(snapshot)

    def _emit(self, kind: str, payload: JSON, enqueue: bool, delivered: bool) -> JSON:
        self._last_update_id += 1
        update = {"update_id": self._last_update_id, kind: payload}
        if enqueue:
            if not delivered:
                self.undelivered.append(copy.deepcopy(update))
            elif kind in self._allowed_updates:
                self._queue.append(copy.deepcopy(update))
                self._cond.notify_all()
        return update

    def _bot_sees(self, chat: FakeChat, msg: JSON) -> bool:
        """Group privacy mode: which group messages Telegram delivers to the bot."""
        if chat.type in ("private", "channel") or not self.privacy_mode or chat.bot_is_admin:
            return True
        reply = msg.get("reply_to_message")
        if reply and reply.get("from", {}).get("id") == self.bot_id:
            return True
        text = msg.get("text") or msg.get("caption") or ""
        for entity in msg.get("entities") or msg.get("caption_entities") or []:
            piece = utf16_slice(text, entity["offset"], entity["length"])
            if entity["type"] == "bot_command":
                _, _, target = piece.partition("@")
                if not target or target.lower() == self.bot_username.lower():
                    return True
            if entity["type"] == "mention" and piece[1:].lower() == self.bot_username.lower():
                return True
        return False

    def _origin_for(self, who: UserLike | JSON, date: int) -> JSON:
        if isinstance(who, Mapping) and "type" in who and "id" not in who:
            return dict(who)  # already a MessageOrigin
        user = self._remember_user(who)
        if user["id"] in self._hidden_forwarders:
            name = " ".join(filter(None, [user.get("first_name"), user.get("last_name")]))
            return {"type": "hidden_user", "sender_user_name": name, "date": date}
        return {"type": "user", "sender_user": user, "date": date}

    def _set_blocked(
        self, chat: FakeChat, blocked: bool, *, by: JSON | None, enqueue: bool
    ) -> JSON | None:
        if chat.blocked == blocked:
            return None
        chat.blocked = blocked
        bot = self.bot_user
        if chat.type == "private":
            actor = (
                by
                or self._users.get(chat.id)
                or {
                    "id": chat.id,
                    "is_bot": False,
                    "first_name": chat.info.get("first_name", "User"),
                }
            )
            old_status, new_status = ("member", "kicked") if blocked else ("kicked", "member")
        else:
            actor = by or {"id": 777000, "is_bot": False, "first_name": "Telegram"}
            before = "administrator" if chat.bot_is_admin else "member"
            old_status, new_status = (before, "left") if blocked else ("left", before)
        update = {
            "chat": dict(chat.info),
            "from": actor,
            "date": unix_time(),
            "old_chat_member": self._member_json(bot, old_status),
            "new_chat_member": self._member_json(bot, new_status),
        }
        return self._emit("my_chat_member", update, enqueue, True)

    @staticmethod
    def _member_json(user: JSON, status: str) -> JSON:
        member: JSON = {"status": status, "user": user}
        if status == "kicked":
            member["until_date"] = 0
        elif status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                {
                    key: False
                    for key in (
                        "can_be_edited",
                        "is_anonymous",
                        "can_manage_video_chats",
                        "can_restrict_members",
                        "can_promote_members",
                        "can_change_info",
                        "can_post_stories",
                        "can_edit_stories",
                        "can_delete_stories",
                    )
                }
            )
            member.update(
                {
                    "can_manage_chat": True,
                    "can_delete_messages": True,
                    "can_invite_users": True,
                    "can_pin_messages": True,
                }
            )
        return member

    def _new_file_ids(self, kind: str) -> tuple[str, str]:
        self._file_counter += 1
        token = secrets.token_urlsafe(36).replace("-", "_")
        prefix = FILE_ID_PREFIX.get(kind, "BQAC")
        return (
            f"{prefix}AgIAAxkBAAI{self._file_counter:05d}{token}",
            f"AQAD{self._file_counter:04d}{secrets.token_urlsafe(6)}",
        )

    def _store_file(
        self,
        kind: str,
        content: bytes,
        mime_type: str | None,
        file_name: str | None,
        *,
        size: int | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> StoredFile:
        file_id, unique_id = self._new_file_ids(kind)
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=unique_id,
            kind=kind,
            content=content,
            size=max(size or 0, len(content)),
            mime_type=mime_type,
            file_name=file_name,
            width=width,
            height=height,
        )
        self._files[file_id] = stored
        return stored

    def _store_photo(self, content: bytes | None) -> list[JSON]:
        """Stores a photo as Telegram does (several sizes) and returns its PhotoSize list."""
        if content is None:
            dimensions = [(90, 68), (800, 600)]
            original = make_jpeg(800, 600, comment=f"fake photo {self._file_counter}")
        else:
            info = image_size(content)
            if info is None:
                raise bad("IMAGE_PROCESS_FAILED")
            dimensions = photo_dimensions(info[1], info[2])
            original = content
        sizes: list[StoredFile] = []
        for index, (width, height) in enumerate(dimensions):
            last = index == len(dimensions) - 1
            data = original if last else make_jpeg(width, height)
            sizes.append(
                self._store_file("photo", data, "image/jpeg", None, width=width, height=height)
            )
        ids = [s.file_id for s in sizes]
        for file_id in ids:
            self._photo_sets[file_id] = ids
        return [self._photo_size_json(s) for s in sizes]

    @staticmethod
    def _photo_size_json(stored: StoredFile) -> JSON:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "width": stored.width,
            "height": stored.height,
        }

    @staticmethod
    def _document_json(stored: StoredFile) -> JSON:
        data: JSON = {
            "file_name": stored.file_name,
            "mime_type": stored.mime_type,
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
        }
        return {k: v for k, v in data.items() if v is not None}


def _describe_uploads(files: Mapping[str, FileTuple]) -> JSON:
    """How uploads appear in :attr:`FakeTelegram.calls`."""
    return {
        key: {"upload": name, "size": len(data), "mime_type": mime}
        for key, (name, data, mime) in files.items()
    }
