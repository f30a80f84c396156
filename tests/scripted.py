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

from bot.fake import FakeTelegram, make_jpeg
from tests.factories import make_id_number, make_mobile


@dataclass
class Member:
    number: int
    user: dict[str, Any]
    latencies: list[float] = field(default_factory=list)
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

    async def _wait_reply(self, before: int, timeout: float) -> dict[str, Any]:
        started = time.monotonic()
        while self.fake.posted.get(self.member.id, 0) <= before:
            if time.monotonic() - started > timeout:
                raise Stalled(f"no reply in {timeout:.0f} s")
            await asyncio.sleep(0.01)
        self.member.latencies.append(time.monotonic() - started)
        await asyncio.sleep(0.05)  # a reply may come in two messages: take the last
        return self.fake.bot_messages(self.member.id)[-1]

    async def _act(self, action: Any, timeout: float) -> dict[str, Any]:
        low, high = self.think
        await asyncio.sleep(self.random.uniform(low, high))
        before = self.fake.posted.get(self.member.id, 0)
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
        member = self.member
        answers = {
            "请输入您的姓名": member.name,
            "身份证号码": make_id_number(sequence=member.number % 1000),
            "手机号码": member.phone,
            "工作单位": f"河东测试机械厂第{member.number}车间",
            "基层工会": f"河东测试机械厂第{member.number}车间工会",
        }
        try:
            reply = await self._act(self._say("/apply"), timeout)
            reply = await self._act(self._press(reply, "工会会员服务卡办理"), timeout)
            reply = await self._act(self._press(reply, "同意并开始填写"), timeout)
            reply = await self._act(self._press(reply, "是"), timeout)
            for _ in range(8):
                said = reply.get("text", "")
                key = next((k for k in answers if k in said), None)
                if key is None:
                    break
                reply = await self._act(self._say(answers.pop(key)), timeout)
            if "身份证" in reply.get("text", "") and "照片" in reply.get("text", ""):
                photo = make_jpeg(320, 200, comment=f"member-{member.number}")
                reply = await self._act(
                    lambda: self.fake.user_message(member.user, photo=photo), timeout
                )
                if "核对" not in reply.get("text", ""):
                    reply = await self._act(self._press(reply, "完成"), timeout)
            reply = await self._act(self._press(reply, "提交"), timeout)
            found = [w for w in reply.get("text", "").split() if w.startswith("HD-")]
            text_ = reply.get("text", "")
            start = text_.find("HD-")
            member.case_number = text_[start : start + 14] if start >= 0 else None
            if member.case_number is None and found:
                member.case_number = found[0]
            if member.case_number is None:
                member.error = f"no case number: {text_[:80]!r}"
        except Stalled as error:
            member.error = str(error)


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
            data = answers if isinstance(answers, dict) else json.loads(answers)
            if not str(data.get("phone", "")).endswith(member.phone):
                mixed += 1
    return lost, duplicated, mixed
