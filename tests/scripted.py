"""Scripted members: each files a whole service-card application through the fake Telegram,
pressing the real buttons and waiting for each reply (the load and fault benchmarks, and the
scale-out test)."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine, text

from bot import texts
from bot.fake import FakeTelegram, make_jpeg
from storage.crypto import decrypt_text
from tests.factories import make_id_number, make_mobile


@dataclass
class Member:
    number: int
    user: dict[str, Any]
    latencies: list[float] = field(default_factory=list)
    steps: list[tuple[str, float, float]] = field(default_factory=list)  # kind, sent at, took
    case_number: str | None = None
    error: str | None = None

    @property
    def id(self) -> int:
        return int(self.user["id"])

    @property
    def phone(self) -> str:
        return make_mobile(self.number)

    @property
    def name(self) -> str:
        return "测试" + "甲乙丙丁戊己庚辛壬癸"[self.number % 10] + "号"[: self.number % 1]


class Stalled(Exception):
    pass


class Driver:
    """One member's application, step by step, through the fake's own API."""

    def __init__(self, fake: FakeTelegram, member: Member, think: tuple[float, float]) -> None:
        self.fake = fake
        self.member = member
        self.think = think
        self.random = random.Random(member.number)
        self.last_said = ""  # the last text answer (an impatient member types it again)
        self._kind = ""

    async def _wait_reply(self, before: int, timeout: float) -> dict[str, Any]:
        """The bot's answer to the last action: the last new message, once one came that is
        not "please wait" (a person reads that and waits for the answer)."""
        started = time.monotonic()
        while True:
            while self.fake.posted.get(self.member.id, 0) <= before:
                if time.monotonic() - started > timeout:
                    raise Stalled(f"no reply in {timeout:.0f} s")
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)  # a reply may come in two messages: take the last
            last = self.fake.bot_messages(self.member.id)[-1]
            if last.get("text") != texts.DATABASE_BUSY:
                break
            before = self.fake.posted.get(self.member.id, 0)
        took = time.monotonic() - started - 0.05
        self.member.latencies.append(took)
        self.member.steps.append((self._kind, started, took))
        return last

    async def _act(self, action: Any, timeout: float, kind: str = "text") -> dict[str, Any]:
        low, high = self.think
        await asyncio.sleep(self.random.uniform(low, high))
        before = self.fake.posted.get(self.member.id, 0)
        self._kind = kind
        action()
        return await self._wait_reply(before, timeout)

    def _press(self, message: dict[str, Any], label: str) -> Any:
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if button["text"] == label or button["text"].endswith(label):
                    return lambda: self.fake.press_button(
                        self.member.user,
                        self.member.id,
                        message["message_id"],
                        button["callback_data"],
                    )
        raise Stalled(f"no button {label!r} on {message.get('text', '')[:60]!r}")

    def _say(self, text_: str) -> Any:
        return lambda: self.fake.user_message(self.member.user, text=text_)

    async def run(self, timeout: float) -> None:
        """The whole application, to its case number."""
        try:
            summary = await self.fill(timeout)
            await self.submit(summary, timeout)
        except Stalled as error:
            self.member.error = str(error)

    async def fill(self, timeout: float) -> dict[str, Any]:
        """Every step up to the summary with its 提交 button (raises Stalled)."""
        member = self.member
        answers = {
            "请输入您的姓名": member.name,
            "身份证号码": make_id_number(sequence=member.number % 1000),
            "手机号码": member.phone,
            "工作单位": f"河东测试机械厂第{member.number}车间",
            "基层工会": f"河东测试机械厂第{member.number}车间工会",
        }
        reply = await self._act(self._say("/apply"), timeout, "/apply")
        reply = await self._act(
            self._press(reply, "工会会员服务卡办理"), timeout, "工会会员服务卡办理"
        )
        reply = await self._act(self._press(reply, "同意并开始填写"), timeout, "同意并开始填写")
        reply = await self._act(self._press(reply, "是"), timeout, "是")
        for _ in range(8):
            said = reply.get("text", "")
            key = next((k for k in answers if k in said), None)
            if key is None:
                break
            self.last_said = answers.pop(key)
            reply = await self._act(self._say(self.last_said), timeout)
        if "身份证" in reply.get("text", "") and "照片" in reply.get("text", ""):
            photo = make_jpeg(320, 200, comment=f"member-{member.number}")
            reply = await self._act(
                lambda: self.fake.user_message(member.user, photo=photo), timeout, "photo"
            )
            if "核对" not in reply.get("text", ""):
                reply = await self._act(self._press(reply, "完成"), timeout, "完成")
        return reply

    def press_submit(self, summary: dict[str, Any]) -> None:
        self._press(summary, "提交")()

    async def submit(self, summary: dict[str, Any], timeout: float) -> None:
        reply = await self._act(self._press(summary, "提交"), timeout, "提交")
        self.read_case_number(reply)

    def read_case_number(self, reply: dict[str, Any]) -> None:
        text_ = reply.get("text", "")
        start = text_.find("HD-")
        self.member.case_number = text_[start : start + 14] if start >= 0 else None
        if self.member.case_number is None:
            self.member.error = f"no case number: {text_[:80]!r}"


def check_cases(database_url: str, members: Sequence[Member]) -> tuple[int, int, int]:
    """(lost, duplicated, mixed): a member told a number with no case, two cases for one
    member, a case holding another member's answers."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                'SELECT m.telegram_id, c.number, c.answers FROM "case" c '
                "JOIN member m ON m.id = c.member_id WHERE c.kind = 'APPLICATION'"
            )
        ).all()
    engine.dispose()
    by_member: dict[int, list[tuple[str, Any]]] = {}
    for telegram_id, number, answers in rows:
        by_member.setdefault(int(telegram_id), []).append((number, answers))
    lost = duplicated = mixed = 0
    for member in members:
        cases = by_member.get(member.id, [])
        if member.case_number and not any(number == member.case_number for number, _ in cases):
            lost += 1
        if len(cases) > 1:
            duplicated += 1
        for _, answers in cases:
            data = answers if isinstance(answers, dict) else json.loads(decrypt_text(answers))
            if not str(data.get("phone", "")).endswith(member.phone):
                mixed += 1
    return lost, duplicated, mixed
