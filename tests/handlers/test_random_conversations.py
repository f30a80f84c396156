"""Seeded random conversations: two members and a staffer do anything, in any order.

Each seed is one conversation of STEPS steps. At every step one action is drawn: a question,
a command, a button (the latest, an old one, or forged callback data), media, an edit, a staff
reply or /close, or a valid answer to the form a member has open. After every step nothing may
have reached the error handler, every bot message must fit Telegram's limits, and neither
member may see the other's personal data. At the end the database must be consistent.

A failure names the seed and lists the steps so far: `STEPS`, the seed and the list reproduce it.
"""

from __future__ import annotations

import logging
import os
import random
import re
import traceback
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.applications import PICKED, Applications
from bot.fake import FakeUser, make_jpeg
from bot.services import SERVICES_KEY, Services
from knowledge.forms import FieldType, FormField
from storage.models import ACTIVE_DRAFT_STAGES, Attachment, Case, Draft, DraftStage, Member
from tests.factories import make_card_number, make_id_number, make_mobile
from tests.handlers.conftest import (
    DEMOCRATIC,
    GENERAL,
    ORGANIZATION,
    PUBLICITY,
    RIGHTS,
    Harness,
)
from tests.handlers.test_forms import _text_for

# 12 conversations in CI; RANDOM_SEEDS_FROM / RANDOM_SEEDS_TO run more (240 more passed).
SEEDS = range(
    int(os.environ.get("RANDOM_SEEDS_FROM", "0")), int(os.environ.get("RANDOM_SEEDS_TO", "12"))
)
STEPS = 60
STAFF_CHATS = (GENERAL, ORGANIZATION, DEMOCRATIC, RIGHTS, PUBLICITY)
NUMBER = re.compile(r"HD-\d{4}-\d{6}")
MAX_TEXT, MAX_CAPTION, MAX_DATA = 4096, 1024, 64
# What the fake Telegram answers when the bot oversteps a limit (the message never arrives,
# so the length checks on the chats alone would not see it).
LIMIT_ERRORS = ("too long", "BUTTON_DATA_INVALID", "can't parse", "MESSAGE_TOO_LONG")

QUESTIONS = [
    "会员服务卡怎么办理",
    "困难职工帮扶要什么材料",
    "建会需要哪些材料？",
    "民主管理部电话是多少",
    "评选劳模的依据是啥",
    "工会法人资格登记去哪儿办",
    "单位有安全隐患怎么反映",
    "会员卡年审怎么弄",
    "厂里拖欠工资三个月了咋办",
    "我想申请困难补助，家里老人住院了",
    "會員服務卡怎麼辦理",  # traditional characters
    "hui yuan fu wu ka zen me ban",  # pinyin
    "kunnan zhigong bangfu",
    "社保断缴了怎么补",  # out of scope
    "公积金怎么提取",
    "离婚财产怎么分割",
    "帮我写一首诗",
    "今天天气怎么样",
    "你好",
    "谢谢你",
    "再见",
    "你是谁？",
    "好的",
    "转人工",
    "我要找人工客服",
    "😀😀😀",
    "👍🏻🇨🇳",
    "会员卡\x07\x1b怎么办",
    "\u200b\u200b",
    "会员卡怎么办理" + "啊" * 3993,  # 4,000 characters
    "<b>加粗</b> & <i>斜体</i> &amp; <a href='x'>链接</a>",
    "1",
    "完成",
    "取消",
    "上一项",
    "是",
    "否",
    "跳过",
    "HD-2026-000001 进度怎么样了",
    "我的身份证号是990000190001011234",
    "？？？",
]
COMMANDS = ["/start", "/help", "/menu", "/apply", "/mycases", "/profile", "/human", "/cancel"]
ADDRESSEES = ["", "", "", "@hedong_union_bot", "@HEDONG_UNION_BOT", "@other_bot"]
STAFF_TEXTS = [
    "您好，已收到，请带身份证原件到区总工会一楼办理。",
    "请问您的单位全称是什么？",
    "好的",
    "<b>注意</b> & 请于周五前提交材料 <script>",
    "收到" + "。" * 4000,
    "😀",
    "/close",
    "/close@hedong_union_bot",
    "/close@other_bot",
    "/start",
]
FORGED = [
    "fm:1:S",
    "fm:999:o:name:1",
    "case:1",
    "wd:2",
    "wdok:1",
    "prof:save:1",
    "dept:9",
    "",
    "fm:",
    "fm:1",
    "fm:x:S",
    "fm:1:Z",
    "fm:1:o",
    "fm:1:t:causes:99",
    "fm:1:N:nonexistent",
    "fm:1:e:no_such_field",
    "apply:",
    "apply:nonexistent",
    "cases",
    "case:",
    "case:-1",
    "case:0",
    "wd:abc",
    "prof:",
    "prof:save:",
    "prof:delete",
    "prof:no",
    "menu",
    "menu:x",
    "area:99",
    "area:",
    "duty:3.2:process",
    "duty:3.2:",
    "duty::",
    "human:9.9",
    "human:",
    "end:x",
    "none:x",
    "dept:",
    "dept:组织部",
    ":::::::",
    "case:²",  # str.isdigit() is true for "²", but int() refuses it
    "dept:٣",  # Arabic-Indic digits: int() reads them as 3 and 1
    "fm:١:X",
    "case:99999999999999999999",  # beyond a 64-bit integer column
    "fm:9223372036854775808:S",
    "💥" * 16,
    "x" * 64,
]
KINDS = ["fm", "case", "wd", "wdok", "prof", "apply", "dept", "area", "duty", "human", "end"]
FORGED_CHARS = "0123456789:abcSXoNtdeEKRkupbs_-. 测²³¹١٢٣０１９💥\u200b"
# Digits as str.isdigit() sees them: ASCII, full-width, Arabic-Indic, superscript.
DIGITS = "0123456789" * 3 + "０１９١٢٣²³¹"


@dataclass
class Person:
    """A member with synthetic personal data of their own."""

    user: FakeUser
    number: int  # passed to _text_for: distinct phones, codes, card numbers
    name: str
    id_number: str
    phone: str
    card: str

    @property
    def tag(self) -> str:
        return self.user.first_name[-1]

    def secrets(self) -> tuple[str, ...]:
        return (self.name, self.id_number, self.phone, self.card, self.user.first_name)


def _svc(harness: Harness) -> Services:
    svc = harness.app.bot_data[SERVICES_KEY]
    assert isinstance(svc, Services)
    return svc


def _texts(message: dict[str, Any]) -> list[str]:
    """Everything a person reads on a message: its text or caption, and its buttons."""
    keyboard = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    labels = [button.get("text", "") for row in keyboard for button in row]
    return [message.get("text") or "", message.get("caption") or "", *labels]


def _button_data(message: dict[str, Any]) -> list[str]:
    keyboard = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in keyboard for b in row if "callback_data" in b]


@dataclass
class Conversation:
    harness: Harness
    seed: int
    rng: random.Random
    members: tuple[Person, Person]
    caplog: pytest.LogCaptureFixture
    steps: list[str] = field(default_factory=list)
    tracebacks: list[str] = field(default_factory=list)
    api_errors_seen: int = 0

    # ------------------------------------------------------------------ plumbing

    @property
    def fake(self) -> Any:
        return self.harness.fake

    async def send(self, update: dict[str, Any]) -> None:
        await self.harness.process(update)

    def draft(self, person: Person) -> Draft | None:
        """The member's active draft, if any."""
        with Session(self.harness.engine) as session:
            member = session.exec(
                select(Member).where(Member.telegram_id == person.user.id)
            ).first()
            if member is None:
                return None
            return Applications.active_draft(session, member)

    def other(self, person: Person) -> Person:
        return self.members[1] if person is self.members[0] else self.members[0]

    async def press(self, person: Person, message_id: int, data: str, why: str) -> str:
        await self.send(
            self.fake.press_button(person.user, person.user.id, message_id, data, enqueue=False)
        )
        return f"{person.tag} presses {data!r} on message {message_id} ({why})"

    async def say(self, person: Person, text: str) -> str:
        await self.send(self.fake.user_message(person.user, text=text, enqueue=False))
        shown = text if len(text) <= 40 else f"{text[:20]}…({len(text)} chars)"
        return f"{person.tag} says {shown!r}"

    def latest_message_id(self, person: Person) -> int | None:
        """The bot's latest message in the chat, to hang a press on (None before the first)."""
        messages = self.fake.bot_messages(person.user.id)
        return int(messages[-1]["message_id"]) if messages else None

    # ------------------------------------------------------------------ actions

    async def question(self, person: Person) -> str:
        return await self.say(person, self.rng.choice(QUESTIONS))

    async def command(self, person: Person) -> str:
        text = self.rng.choice(COMMANDS) + self.rng.choice(ADDRESSEES)
        if self.rng.random() < 0.1:
            text += " " + self.rng.choice(["abc", "会员卡", "123"])
        return await self.say(person, text)

    async def press_latest(self, person: Person) -> str:
        with_buttons = [m for m in self.fake.bot_messages(person.user.id) if _button_data(m)]
        if not with_buttons:
            return await self.command(person)
        message = with_buttons[-1]
        data = self.rng.choice(_button_data(message))
        return await self.press(person, message["message_id"], data, "latest buttons")

    async def press_older(self, person: Person) -> str:
        with_buttons = [m for m in self.fake.bot_messages(person.user.id) if _button_data(m)]
        if len(with_buttons) < 2:
            return await self.press_latest(person)
        message = self.rng.choice(with_buttons[:-1])
        data = self.rng.choice(_button_data(message))
        return await self.press(person, message["message_id"], data, "an older message")

    def forged_data(self) -> str:
        roll = self.rng.random()
        if roll < 0.35:
            return self.rng.choice(FORGED)
        if roll < 0.6:  # real draft and case ids: the member's own or the other member's
            with Session(self.harness.engine) as session:
                drafts = [d.id for d in session.exec(select(Draft)).all()]
                cases = [c.id for c in session.exec(select(Case)).all()]
            draft_id = self.rng.choice(drafts) if drafts else self.rng.randint(1, 5)
            case_id = self.rng.choice(cases) if cases else self.rng.randint(1, 5)
            return self.rng.choice(
                [
                    f"fm:{draft_id}:S",
                    f"fm:{draft_id}:X",
                    f"fm:{draft_id}:K",
                    f"fm:{draft_id}:E",
                    f"fm:{draft_id}:ok",
                    f"fm:{draft_id}:o:name:1",
                    f"fm:{draft_id}:N:service_card",
                    f"case:{case_id}",
                    f"wd:{case_id}",
                    f"wdok:{case_id}",
                    f"prof:save:{case_id}",
                ]
            )
        if roll < 0.85:  # a known kind with random parts
            parts = [self.rng.choice(KINDS)]
            for _ in range(self.rng.randint(0, 4)):
                alphabet = DIGITS if self.rng.random() < 0.5 else FORGED_CHARS
                size = self.rng.choice([0, 1, 2, 3, 6, 20])
                parts.append("".join(self.rng.choices(alphabet, k=size)))
            data = ":".join(parts)
        else:  # anything at all
            data = "".join(self.rng.choices(FORGED_CHARS, k=self.rng.randint(0, 64)))
        while len(data.encode()) > MAX_DATA:
            data = data[:-1]
        return data

    async def press_forged(self, person: Person) -> str:
        if (at := self.latest_message_id(person)) is None:
            return await self.command(person)
        return await self.press(person, at, self.forged_data(), "forged")

    async def media(self, person: Person) -> str:
        kind = self.rng.choice(["photo", "document", "bad document", "sticker", "voice", "where"])
        user = person.user
        if kind == "photo":
            width, height = self.rng.randint(100, 1200), self.rng.randint(100, 1200)
            comment = f"{self.seed}-{len(self.steps)}"
            caption = self.rng.choice([None, "身份证照片", "😀"])
            update = self.fake.user_message(
                user,
                photo=make_jpeg(width, height, comment=comment),
                caption=caption,
                enqueue=False,
            )
            what = f"a {width}x{height} photo (comment {comment!r}, caption {caption!r})"
        elif kind == "document":
            body = f"%PDF-1.4 {self.seed}-{len(self.steps)}".encode()
            update = self.fake.user_message(
                user, document=("申请书.pdf", body, "application/pdf"), enqueue=False
            )
            what = "a PDF"
        elif kind == "bad document":
            update = self.fake.user_message(
                user, document=("a.exe", b"MZ\x90\x00", "application/x-msdownload"), enqueue=False
            )
            what = "an .exe"
        elif kind == "sticker":
            update = self.fake.user_message(user, sticker=True, enqueue=False)
            what = "a sticker"
        elif kind == "voice":
            update = self.fake.user_message(user, voice=True, enqueue=False)
            what = "a voice message"
        else:
            update = self.fake.user_message(user, location=(39.12, 117.2), enqueue=False)
            what = "a location"
        await self.send(update)
        return f"{person.tag} sends {what}"

    async def edit(self, person: Person) -> str:
        own = [
            m
            for m in self.fake.messages(person.user.id)
            if m["from"]["id"] == person.user.id and "text" in m
        ]
        if not own:
            return await self.question(person)
        message = self.rng.choice(own)
        text = self.rng.choice([*QUESTIONS[:12], person.name, person.id_number])
        await self.send(
            self.fake.user_edits(
                person.user, person.user.id, message["message_id"], text, enqueue=False
            )
        )
        return f"{person.tag} edits message {message['message_id']} to {text[:30]!r}"

    async def staff_reply(self, close: bool = False) -> str:
        chat = self.rng.choice(STAFF_CHATS)
        targets = self.fake.bot_messages(chat)
        target = self.rng.choice(targets)["message_id"] if targets else None
        if target is not None and self.rng.random() < 0.15:
            target = None  # staff talking among themselves
        staffer = self.harness.staffer
        if close:
            text = "/close"
            update = self.fake.user_message(
                staffer, chat, text=text, reply_to_message_id=target, enqueue=False
            )
        elif self.rng.random() < 0.1:
            text = "<a photo>"
            update = self.fake.user_message(
                staffer,
                chat,
                photo=make_jpeg(320, 240, comment=f"staff {len(self.steps)}"),
                caption="请看这张图",
                reply_to_message_id=target,
                enqueue=False,
            )
        else:
            text = self.rng.choice(STAFF_TEXTS)
            update = self.fake.user_message(
                staffer, chat, text=text, reply_to_message_id=target, enqueue=False
            )
        await self.send(update)
        shown = text if len(text) <= 40 else f"{text[:20]}…({len(text)} chars)"
        return f"staff in {chat} reply {shown!r} to message {target}"

    def typed_answer(self, person: Person, field_: FormField) -> str:
        if field_.type is FieldType.NAME:
            return person.name
        if field_.type is FieldType.ID_NUMBER:
            return person.id_number
        if field_.type is FieldType.PHONE:
            return person.phone
        if field_.type is FieldType.CARD_NUMBER:
            return person.card
        if field_.type in (FieldType.TEXT, FieldType.LONG_TEXT) and self.rng.random() < 0.3:
            return ("车间通风设备损坏需要维修" * 400)[: field_.max_length]  # as long as allowed
        return _text_for(field_, person.number)

    async def answer_form(self, person: Person) -> str:
        """A valid step forward on the member's draft, or a new form when none is open."""
        apps = _svc(self.harness).applications
        draft = self.draft(person)
        if (at := self.latest_message_id(person)) is None:
            return await self.command(person)
        if draft is None:
            form_id = self.rng.choice(sorted(apps.forms))
            return await self.press(person, at, f"apply:{form_id}", "start a form")
        prefix = f"fm:{draft.id}"
        if draft.stage is DraftStage.CONSENT:
            return await self.press(person, at, f"{prefix}:ok", "consent")
        if draft.stage is DraftStage.REVIEW:
            action = "S" if self.rng.random() < 0.8 else "E"
            return await self.press(person, at, f"{prefix}:{action}", "summary")
        field_ = apps._current_field(draft)
        if field_ is None:
            return await self.press(person, at, f"{prefix}:K", "continue")
        if field_.type is FieldType.YESNO:
            yes = field_.must_be is not None or self.rng.random() < 0.7
            return await self.press(person, at, f"{prefix}:o:{field_.id}:{int(yes)}", "yes/no")
        if field_.type is FieldType.CHOICE:
            index = self.rng.randint(1, len(field_.options))
            return await self.press(person, at, f"{prefix}:o:{field_.id}:{index}", "choice")
        if field_.type is FieldType.MULTI:
            ticked = draft.answers.get(PICKED, {}).get(field_.id)
            if ticked and self.rng.random() < 0.6:
                return await self.press(person, at, f"{prefix}:d:{field_.id}", "multi done")
            index = self.rng.randint(1, len(field_.options))
            return await self.press(person, at, f"{prefix}:t:{field_.id}:{index}", "tick")
        if field_.type is FieldType.UPLOAD:
            received = len(draft.answers.get(field_.id) or [])
            if received >= max(field_.min_count, 1) and self.rng.random() < 0.6:
                return await self.press(person, at, f"{prefix}:u:{field_.id}", "uploads done")
            if "photo" in field_.kinds:
                comment = f"{self.seed}-{len(self.steps)}"
                await self.send(
                    self.fake.user_message(
                        person.user, photo=make_jpeg(640, 480, comment=comment), enqueue=False
                    )
                )
                return f"{person.tag} sends a 640x480 photo (comment {comment!r}) for the form"
            body = f"%PDF-1.4 {self.seed}-{len(self.steps)}".encode()
            await self.send(
                self.fake.user_message(
                    person.user, document=("材料.pdf", body, "application/pdf"), enqueue=False
                )
            )
            return f"{person.tag} sends a PDF for the form"
        return await self.say(person, self.typed_answer(person, field_))

    # ------------------------------------------------------------------ the run

    async def step(self) -> str:
        person = self.rng.choice(self.members)
        filling = self.draft(person) is not None
        actions = [
            (12, self.question),
            (9, self.command),
            (16, self.press_latest),
            (5, self.press_older),
            (7, self.press_forged),
            (7, self.media),
            (3, self.edit),
            (45 if filling else 15, self.answer_form),
        ]
        roll = self.rng.random()
        if roll < 0.12:
            return await self.staff_reply()
        if roll < 0.15:
            return await self.staff_reply(close=True)
        weights, chosen = zip(*actions, strict=True)
        action = self.rng.choices(chosen, weights=weights)[0]
        return await action(person)

    def failure(self, what: str) -> str:
        steps = "\n".join(f"  {i:2d}. {s}" for i, s in enumerate(self.steps, 1))
        found = "\n".join(self.tracebacks)
        return f"seed {self.seed}, after step {len(self.steps)}: {what}\n{steps}\n{found}"

    def check(self) -> None:
        errors = [r.getMessage() for r in self.caplog.records if r.name == "handlers.errors"]
        assert not errors, self.failure(f"the error handler logged {errors}")
        new_errors = self.fake.errors[self.api_errors_seen :]
        self.api_errors_seen = len(self.fake.errors)
        over = [e for e in new_errors if any(mark in e[2] for mark in LIMIT_ERRORS)]
        assert not over, self.failure(f"Telegram refused a message over a limit: {over}")
        for chat_id in (*(p.user.id for p in self.members), *STAFF_CHATS):
            for message in self.fake.bot_messages(chat_id):
                text, caption = message.get("text") or "", message.get("caption") or ""
                assert len(text) <= MAX_TEXT, self.failure(f"{len(text)} characters in {chat_id}")
                assert len(caption) <= MAX_CAPTION, self.failure(f"caption of {len(caption)}")
                for data in _button_data(message):
                    size = len(data.encode())
                    assert size <= MAX_DATA, self.failure(f"callback data {data!r}: {size} bytes")
        for person in self.members:
            foreign = self.other(person).secrets()
            for message in self.fake.bot_messages(person.user.id):
                for shown in _texts(message):
                    leaked = [s for s in foreign if s in shown]
                    assert not leaked, self.failure(
                        f"{person.tag} was shown {leaked} of the other member: {shown[:300]!r}"
                    )

    def check_database(self) -> None:
        with Session(self.harness.engine) as session:
            cases = session.exec(select(Case)).all()
            drafts = {d.id: d for d in session.exec(select(Draft)).all()}
            attachments = session.exec(select(Attachment)).all()
        for case in cases:
            assert case.number and NUMBER.fullmatch(case.number), self.failure(
                f"case {case.id} has number {case.number!r}"
            )
        filed = [c.draft_id for c in cases if c.draft_id is not None]
        assert len(filed) == len(set(filed)), self.failure(f"a draft filed twice: {filed}")
        for case in cases:
            if case.draft_id is not None:
                stage = drafts[case.draft_id].stage
                assert stage is DraftStage.SUBMITTED, self.failure(
                    f"case {case.number} was filed from a draft that is {stage}"
                )
        ended = {DraftStage.SUBMITTED, DraftStage.DISCARDED, DraftStage.EXPIRED}
        for draft in drafts.values():
            if draft.stage in ended:
                assert not draft.answers, self.failure(
                    f"draft {draft.id} is {draft.stage} and keeps {sorted(draft.answers)}"
                )
        active: dict[int, int] = {}
        for draft in drafts.values():
            if draft.stage in ACTIVE_DRAFT_STAGES:
                active[draft.member_id] = active.get(draft.member_id, 0) + 1
        assert all(n <= 1 for n in active.values()), self.failure(f"active drafts: {active}")
        for attachment in attachments:
            if attachment.draft_id is None:  # sent later for a case (补件, a consultation)
                assert attachment.case_id is not None, self.failure(
                    f"attachment {attachment.id} belongs to neither a draft nor a case"
                )
                continue
            stage = drafts[attachment.draft_id].stage
            assert stage in ACTIVE_DRAFT_STAGES or attachment.case_id is not None, self.failure(
                f"attachment {attachment.id} kept for a {stage} draft"
            )


def _people() -> tuple[Person, Person]:
    first = Person(
        user=FakeUser(id=710001, first_name="会员甲"),
        number=1,
        name="司徒甲峰",
        id_number=make_id_number(date(1981, 3, 9), sequence=101),
        phone=make_mobile(1),
        card=make_card_number(1),
    )
    second = Person(
        user=FakeUser(id=710002, first_name="会员乙", username="member_b"),
        number=2,
        name="上官乙岚",
        id_number=make_id_number(date(1992, 11, 23), sequence=202),
        phone=make_mobile(2),
        card=make_card_number(2),
    )
    return first, second


@pytest.mark.parametrize("seed", SEEDS)
async def test_a_random_conversation(
    harness: Harness, caplog: pytest.LogCaptureFixture, seed: int
) -> None:
    caplog.set_level(logging.WARNING)
    conversation = Conversation(harness, seed, random.Random(seed), _people(), caplog)

    async def keep_traceback(update: object, context: Any) -> None:
        error = context.error
        if error is not None:
            conversation.tracebacks.append("".join(traceback.format_exception(error)))

    harness.app.add_error_handler(keep_traceback)
    for _ in range(STEPS):
        conversation.steps.append(await conversation.step())
        conversation.check()
    conversation.check_database()
