"""`union-bot chat`: the real Application and handlers against an in-memory fake Telegram.

You type as a member. Buttons are listed as numbers; typing the number presses the button.
What the bot sends to the staff chats is shown too, under the chat's name. Type
`staff: 文本` to answer as staff (a reply to the latest case message in the staff chats), and
`staff: /close` to end that consultation. `photo: 说明` sends a photo and `file: PATH` a file
(a small sample PDF without a path), for the forms' uploads.
"""

from __future__ import annotations

import mimetypes
import os
import re
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from sqlmodel import col, select
from telegram import Update

from bot.app import App, build_application, startup
from bot.fake import FakeRequest, FakeTelegram, FakeUser, make_jpeg
from bot.services import SERVICES_KEY, Services
from bot.settings import Settings, load_settings
from storage.db import session_scope
from storage.models import ALL_DEPARTMENTS, Case, CaseMessage, StaffRole
from storage.staff import add_staff

CHAT_TOKEN = "100200300:terminal-chat"
# staff: 文本 answers the newest case; staff HD-2026-000002: 文本 answers that one.
STAFF_LINE = re.compile(r"^staff(?:\s+(HD-\d{4}-\d{6}))?\s*[:：](.*)$", re.DOTALL)
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

    async def handle(self, line: str) -> None:
        line = line.strip()
        if not line:
            return
        if staff := STAFF_LINE.match(line):
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
                await self.app.process_update(Update.de_json(part, self.app.bot))
            update = None
        if update is not None:
            await self.app.process_update(Update.de_json(update, self.app.bot))
        self.show()

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

    def _as_staff(self, text: str, number: str | None = None) -> dict[str, Any] | None:
        target = self._latest_case_message(number)
        if target is None:
            self.out.write(f"（员工群里没有{number or '可回复的咨询或申请'}。）\n")
            return None
        chat_id, message_id = target
        return self.fake.user_message(
            self.staffer, chat_id, text=text, reply_to_message_id=message_id, enqueue=False
        )

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
        ]
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
                if before is not None and before.split("\x00")[0] == body and not buttons:
                    continue  # only its buttons were taken away: the question was answered
                edited = "（更新）" if before is not None else ""
                self.out.write(f"{speaker}{edited}：{body}\n")
                if chat_id == self.member.id:
                    # Numbers press the buttons of the latest message only.
                    self.options = [(message["message_id"], data) for _, data in buttons]
                    self.labels = [
                        (label, (message["message_id"], data)) for label, data in buttons
                    ]
                    for number, (label, _) in enumerate(buttons, 1):
                        self.out.write(f"  [{number}] {label}\n")
                self.out.write("\n")
        self.out.flush()


def _buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    keyboard = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [
        (button["text"], button["callback_data"])
        for row in keyboard
        for button in row
        if "callback_data" in button
    ]


INTRO = (
    "河东区总工会服务助手（终端版，无需 Telegram）。直接输入问题；输入数字或按钮文字按下按钮；\n"
    "“photo: 说明”发送一张照片，“file: 路径”发送文件（不写路径则发送一份示例 PDF）；\n"
    "“staff: 文本”以工作人员身份回复最新的咨询或申请，\n"
    "“staff HD-2026-000001: 文本”回复指定的一件，“staff: /close”结束咨询；Ctrl-D 退出。\n"
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
        return await _run_chat(chat_settings(**overrides), stdin, out)


async def _run_chat(settings: Settings, stdin: TextIO, out: TextIO) -> int:
    fake = FakeTelegram(token=CHAT_TOKEN)
    app = build_application(settings, request=FakeRequest(fake))
    interactive = stdin.isatty()
    async with app:
        await startup(app)
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
