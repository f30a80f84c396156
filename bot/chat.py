"""`union-bot chat`: the real Application and handlers against an in-memory fake Telegram.

You type as a member, and as the one staffer (李干事, on the roster for every department) when
a line starts with `staff`. The member's buttons are listed as `[1] label`; typing the number or
the label presses one. `photo: 说明` sends a photo and `file: PATH` a file (a small sample PDF
without a path), for the forms' uploads.

What the bot sends to the staff chats is shown under the chat's name, and what it sends to the
staffer privately (查看材料, 查看完整信息, the brief on acceptance) under `[李干事 私聊]`. The
buttons of the latest staff message that has any are listed as `[s1] label`, row by row; as
the staffer:

- `s1` (or `staff: s1`, or `staff: 受理`, the exact label) presses one (an exact label is a
  press even while a prompt waits for words);
- `staff: 文本` answers the bot's prompt for words (补件, 办结, 驳回, 备注) when that prompt is
  the latest staff-chat message, and otherwise replies to the latest case message, which
  reaches the member; `staff HD-2026-000001: 文本` replies to that case's latest message;
- `staff: /close` (a reply to the latest case message) ends a consultation; other commands
  (`staff: /cases`, `/case HD-…`, `/search …`, `/stats`, `/export`, `/staff`) are sent as plain
  messages into the staff chat of the latest case message (the general one before any case).

A button press that the bot answers with a toast or an alert shows it as `（提示：…）`.
"""

from __future__ import annotations

import mimetypes
import os
import re
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from sqlmodel import col, select
from telegram import Update

from bot.app import App, build_application, handle_now, startup
from bot.fake import FakeRequest, FakeTelegram, FakeUser, make_jpeg
from bot.services import SERVICES_KEY, Services
from bot.settings import Settings, load_settings
from storage.crypto import new_key, write_key_file
from storage.db import session_scope
from storage.models import ALL_DEPARTMENTS, Case, CaseMessage, StaffRole
from storage.staff import add_staff

CHAT_TOKEN = "100200300:terminal-chat"
# staff: 文本 answers the newest case; staff HD-2026-000002: 文本 answers that one.
STAFF_LINE = re.compile(r"^staff(?:\s+(HD-\d{4}-\d{6}))?\s*[:：](.*)$", re.DOTALL)
# s2 (or staff: s2) presses the second button of the latest staff message that has buttons.
STAFF_PRESS = re.compile(r"^[sS](\d+)$")
# Staff commands that answer a case (a reply to its message); the others are said in the chat.
REPLY_COMMANDS = {"/close"}
PHOTO_PREFIX = "photo:"
FILE_PREFIX = "file:"
DEMO_STAFF_CHATS = {
    "staff_chat_general": -1001000000000,
    "staff_chat_organization": -1001000000001,
    "staff_chat_democratic_management": -1001000000002,
    "staff_chat_rights": -1001000000003,
    "staff_chat_publicity": -1001000000004,
}
# Buttons that only move about a form: with nothing else on offer, a typed number is an answer
# (家庭人口 3), not a press.
FORM_NAVIGATION = re.compile(r"^fm:\d+:[bskR](:|$)")
MAX_MESSAGE = 4096


def chat_settings(**overrides: Any) -> Settings:
    """The environment's settings (database, union name), with fake Telegram and staff chats."""
    values: dict[str, Any] = {"token": CHAT_TOKEN, **DEMO_STAFF_CHATS, **overrides}
    values.setdefault("api_base_url", "http://fake.telegram.invalid/bot")
    return load_settings(Settings, **values)


class StaffButton(NamedTuple):
    """A button the staffer can press: on which message, with what label and data."""

    chat_id: int
    message_id: int
    label: str
    data: str


class TerminalChat:
    """One member and one staffer talking to the bot through a FakeTelegram."""

    def __init__(self, app: App, fake: FakeTelegram, settings: Settings, out: TextIO) -> None:
        self.app = app
        self.fake = fake
        self.settings = settings
        self.out = out
        self.member = FakeUser(id=700001, first_name="张", last_name="会员")
        self.staffer = FakeUser(id=800001, first_name="李", last_name="干事")
        self.staff_chats = settings.staff_chats()
        for chat_id, name in self.staff_chats.items():
            fake.register_chat(chat_id, type="supergroup", title=name)
            fake.set_member(chat_id, self.staffer, "administrator")
        # The staffer has started the bot privately, so files and full data can reach them.
        fake.register_chat(
            self.staffer.id, first_name=self.staffer.first_name, last_name=self.staffer.last_name
        )
        self.staffer_label = f"[{self.staffer.first_name}{self.staffer.last_name or ''} 私聊]"
        # The one staffer of the terminal chat is on the roster, for every department.
        svc: Services = app.bot_data[SERVICES_KEY]
        with session_scope(svc.engine) as session:
            add_staff(
                session=session,
                telegram_id=self.staffer.id,
                name=self.staffer.full_name,
                department=ALL_DEPARTMENTS,
                role=StaffRole.ADMIN,
            )
        self.shown: dict[tuple[int, int], str] = {}
        self.options: list[tuple[int, str]] = []  # (message_id, callback data)
        self.labels: list[tuple[str, tuple[int, str]]] = []
        # The buttons s1, s2 … press, and the newest bot message in the staff chats.
        self.staff_options: list[StaffButton] = []
        self.staff_latest: tuple[int, int] | None = None

    async def handle(self, line: str) -> None:
        line = line.strip()
        if not line:
            return
        toasts = len(self.fake.calls_of("answerCallbackQuery"))
        if press := STAFF_PRESS.match(line):
            update = self._staff_press(int(press.group(1)))
        elif staff := STAFF_LINE.match(line):
            update = self._as_staff(staff.group(2).strip(), staff.group(1))
        elif line.startswith(PHOTO_PREFIX):
            caption = line.removeprefix(PHOTO_PREFIX).strip() or None
            update = self.fake.user_message(
                self.member, photo=make_jpeg(800, 600), caption=caption, enqueue=False
            )
        elif line.startswith(FILE_PREFIX):
            update = self._file(line.removeprefix(FILE_PREFIX).strip())
        elif (option := self._option(line)) is not None:
            message_id, data = option
            update = self.fake.press_button(
                self.member, self.member.id, message_id, data, enqueue=False
            )
        else:
            # A Telegram client sends a text over 4,096 characters as several messages.
            for start in range(0, len(line), MAX_MESSAGE):
                part = self.fake.user_message(
                    self.member, text=line[start : start + MAX_MESSAGE], enqueue=False
                )
                await handle_now(self.app, Update.de_json(part, self.app.bot))
            update = None
        if update is not None:
            await handle_now(self.app, Update.de_json(update, self.app.bot))
        self.show()
        for answer in self.fake.calls_of("answerCallbackQuery")[toasts:]:
            if answer.get("text"):
                self.out.write(f"（提示：{answer['text']}）\n\n")
        self.out.flush()

    def _file(self, name: str) -> dict[str, Any] | None:
        """Send a file from disk, or a small synthetic PDF when no path is given."""
        if not name:
            content, name = b"%PDF-1.4\n% synthetic test document\n", "材料.pdf"
        else:
            path = Path(name).expanduser()
            if not path.is_file():
                self.out.write(f"（找不到文件：{name}）\n")
                return None
            content, name = path.read_bytes(), path.name
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return self.fake.user_message(self.member, document=(name, content, mime), enqueue=False)

    def _option(self, line: str) -> tuple[int, str] | None:
        """The button a line presses: its number, or its label typed out."""
        if line.isdigit() and 0 < int(line) <= len(self.options):
            if all(FORM_NAVIGATION.match(data) for _, data in self.options):
                return None
            return self.options[int(line) - 1]
        return next((option for label, option in self.labels if label == line), None)

    def _staff_press(self, number: int) -> dict[str, Any] | None:
        """The staffer presses s<number>."""
        if not 0 < number <= len(self.staff_options):
            if self.staff_options:
                self.out.write(f"（没有按钮 s{number}，可按 s1–s{len(self.staff_options)}。）\n")
            else:
                self.out.write("（员工群里没有可按的按钮。）\n")
            return None
        return self._press_as_staff(self.staff_options[number - 1])

    def _press_as_staff(self, button: StaffButton) -> dict[str, Any]:
        return self.fake.press_button(
            self.staffer, button.chat_id, button.message_id, button.data, enqueue=False
        )

    def _as_staff(self, text: str, number: str | None = None) -> dict[str, Any] | None:
        """What the staffer says: a press, a command, an answer to a prompt, or a reply."""
        if not text:
            self.out.write("（staff: 后面写要说的话、命令，或按钮编号 s1。）\n")
            return None
        if number is None:
            if press := STAFF_PRESS.match(text):
                return self._staff_press(int(press.group(1)))
            # A label typed out is a press, even with a prompt open: sending a mistyped button
            # to a member as 补件 words would be worse than a prompt too many.
            for button in self.staff_options:
                if button.label == text:
                    return self._press_as_staff(button)
        command = text.split(maxsplit=1)[0].split("@")[0].lower() if text[0] == "/" else None
        if command is not None and command not in REPLY_COMMANDS:
            # Said in the chat, not to a case: where the latest case is, or the general chat.
            found = self._latest_case_message(number)
            chat_id = found[0] if found else self.settings.staff_chat_general
            return self.fake.user_message(self.staffer, chat_id, text=text, enqueue=False)
        if number is None and command is None and (prompt := self._open_prompt()) is not None:
            chat_id, message_id = prompt
            return self.fake.user_message(
                self.staffer, chat_id, text=text, reply_to_message_id=message_id, enqueue=False
            )
        target = self._latest_case_message(number)
        if target is None:
            self.out.write(f"（员工群里没有{number or '可回复的咨询或申请'}。）\n")
            return None
        chat_id, message_id = target
        return self.fake.user_message(
            self.staffer, chat_id, text=text, reply_to_message_id=message_id, enqueue=False
        )

    def _open_prompt(self) -> tuple[int, int] | None:
        """The newest staff-chat message, if it is the bot asking the staffer for words."""
        if self.staff_latest is None:
            return None
        message = self.fake.message(*self.staff_latest)
        return self.staff_latest if message is not None and _asks_for_reply(message) else None

    def _latest_case_message(self, number: str | None = None) -> tuple[int, int] | None:
        """The staff chat message to reply to: the newest of that case, or of any case."""
        svc: Services = self.app.bot_data[SERVICES_KEY]
        with session_scope(svc.engine) as session:
            query = (
                select(CaseMessage)
                .where(col(CaseMessage.chat_id).in_(list(self.staff_chats)))
                .order_by(col(CaseMessage.id).desc())
            )
            if number:
                query = query.join(Case, col(Case.id) == CaseMessage.case_id).where(
                    Case.number == number
                )
            link = session.exec(query).first()
            return (link.chat_id, link.message_id) if link else None

    def show(self) -> None:
        """Print what the bot sent or changed since the last look."""
        chats: Iterable[tuple[int, str]] = [
            (self.member.id, "助手"),
            *((chat_id, f"[{name}] 助手") for chat_id, name in self.staff_chats.items()),
            (self.staffer.id, f"{self.staffer_label} 助手"),
        ]
        changed: list[tuple[int, str, dict[str, Any], bool]] = []
        for chat_id, speaker in chats:
            for message in self.fake.bot_messages(chat_id):
                key = (chat_id, message["message_id"])
                body = message.get("text") or message.get("caption") or "（附件）"
                buttons = _buttons(message)
                shown = body + "\x00" + "\x00".join(label for label, _ in buttons)
                before = self.shown.get(key)
                if before == shown:
                    continue
                self.shown[key] = shown
                if chat_id in self.staff_chats and before is None:
                    self.staff_latest = key
                if chat_id != self.member.id and not buttons and self._staff_options_on(key):
                    self.staff_options = []  # the buttons s1, s2 … pressed are gone
                if before is not None and before.split("\x00")[0] == body and not buttons:
                    continue  # only its buttons were taken away: the question was answered
                changed.append((chat_id, speaker, message, before is not None))
        # s1, s2 … press the buttons of the last staff-side message shown with buttons; others'
        # buttons are listed without numbers, so that no number is ambiguous.
        numbered = next(
            (
                index
                for index, (chat_id, _, message, _) in reversed(list(enumerate(changed)))
                if chat_id != self.member.id and _buttons(message)
            ),
            None,
        )
        for index, (chat_id, speaker, message, edited) in enumerate(changed):
            body = message.get("text") or message.get("caption") or "（附件）"
            self.out.write(f"{speaker}{'（更新）' if edited else ''}：{body}\n")
            buttons = _buttons(message)
            if chat_id == self.member.id:
                # Numbers press the buttons of the latest message only.
                self.options = [(message["message_id"], data) for _, data in buttons]
                self.labels = [(label, (message["message_id"], data)) for label, data in buttons]
                for number, (label, _) in enumerate(buttons, 1):
                    self.out.write(f"  [{number}] {label}\n")
            elif index == numbered:
                self.staff_options = [
                    StaffButton(chat_id, message["message_id"], label, data)
                    for label, data in buttons
                ]
                number = 0
                for row in _button_rows(message):
                    cells = []
                    for label, _ in row:
                        number += 1
                        cells.append(f"[s{number}] {label}")
                    self.out.write("  " + "  ".join(cells) + "\n")
            elif buttons:
                self.out.write("  （按钮：" + "｜".join(label for label, _ in buttons) + "）\n")
            if chat_id in self.staff_chats and _asks_for_reply(message):
                self.out.write("  （用“staff: 文本”回复这条消息）\n")
            self.out.write("\n")
        self.out.flush()

    def _staff_options_on(self, key: tuple[int, int]) -> bool:
        return bool(self.staff_options) and key == (
            self.staff_options[0].chat_id,
            self.staff_options[0].message_id,
        )


def _button_rows(message: dict[str, Any]) -> list[list[tuple[str, str]]]:
    keyboard = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    rows = [
        [(button["text"], button["callback_data"]) for button in row if "callback_data" in button]
        for row in keyboard
    ]
    return [row for row in rows if row]


def _buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    return [button for row in _button_rows(message) for button in row]


def _asks_for_reply(message: dict[str, Any]) -> bool:
    """A ForceReply message: the bot asks for a reply to it (a staff prompt for words)."""
    return bool((message.get("_reply_markup") or {}).get("force_reply"))


INTRO = (
    "河东区总工会服务助手（终端版，无需 Telegram）。您既是会员“张会员”，也是工作人员“李干事”。\n"
    "会员：直接输入问题；输入 [1] [2] 的数字或按钮文字按下按钮；\n"
    "  “photo: 说明”发送一张照片，“file: 路径”发送文件（不写路径则发送一份示例 PDF）。\n"
    "工作人员（以 staff 开头，或输入 s 编号）：\n"
    "  员工群最新的按钮标为 [s1] [s2] …，输入 s1 或“staff: 按钮文字”（如 staff: 受理）按下；\n"
    "  “staff: 文本”回复最新的咨询或申请，会员会收到；机器人请您回复的提示\n"
    "  （补件、办结、驳回、备注）是员工群最新消息时，则回复该提示；\n"
    "  “staff HD-2026-000001: 文本”回复指定的一件，“staff: /close”结束咨询；\n"
    "  “staff: /cases”等命令发到员工群；私聊发给您的材料显示在 [李干事 私聊] 下。\n"
    "Ctrl-D 退出。\n"
)


async def run_chat(
    stdin: TextIO = sys.stdin, out: TextIO = sys.stdout, *, keep: bool = False
) -> int:
    """Talk until end of input. Each run starts afresh, unless `keep` (data/chat.db, so that
    drafts survive a restart of the chat) or UNIONBOT_DATABASE_URL say otherwise."""
    with tempfile.TemporaryDirectory(prefix="union-bot-chat-") as scratch:
        overrides: dict[str, Any] = {}
        if "UNIONBOT_DATABASE_URL" not in os.environ:
            folder = Path("data") if keep else Path(scratch)
            overrides["database_url"] = f"sqlite:///{folder / 'chat.db'}"
            overrides["files_dir"] = folder / "chat-files"
            if not keep:
                overrides["key_file"] = folder / "chat.key"
        settings = chat_settings(**overrides)
        if settings.encryption_key is None and not settings.key_path.exists():
            # A trial needs no set-up: its own key, beside its own data.
            write_key_file(settings.key_path, [new_key()])
        return await _run_chat(settings, stdin, out)


async def _run_chat(settings: Settings, stdin: TextIO, out: TextIO) -> int:
    fake = FakeTelegram(token=CHAT_TOKEN)
    app = build_application(settings, request=FakeRequest(fake))
    interactive = stdin.isatty()
    async with app:
        await startup(app, deliver_in_background=False)
        chat = TerminalChat(app, fake, settings, out)
        if interactive:
            out.write(INTRO)
        while True:
            if interactive:
                try:
                    line = input("您：")
                except EOFError:
                    break
            else:
                raw = stdin.readline()
                if not raw:
                    break
                line = raw
                out.write(f"您：{line.rstrip()}\n")
            await chat.handle(line)
    return 0
