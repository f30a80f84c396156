"""Staff commands, digests and bursts: /cases, /case, /search, /stats, /export, /staff."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlmodel import Session, select

from bot.app import send_digests, send_held_digests
from bot.fake import FakeUser, image_size
from bot.reports import weekly_counts
from bot.services import SERVICES_KEY, Services
from bot.workdays import CHINA
from knowledge.router import Router
from storage.db import make_engine
from storage.models import Case, CaseEvent, CaseStatus, StaffRole, utcnow
from tests.handlers.conftest import (
    ORGANIZATION,
    RIGHTS,
    Harness,
    harness_settings,
    running,
)
from tests.handlers.test_casework import (
    LEAD,
    OUTSIDER,
    _card,
    _file_service_card,
    _roster,
    _started_privately,
)
from tests.handlers.test_forms import NUMBER
from tests.handlers.test_handoff import STORY

ADMIN_STAFFER = FakeUser(id=860001, first_name="管理员")


def _svc(harness: Harness) -> Services:
    svc = harness.app.bot_data[SERVICES_KEY]
    assert isinstance(svc, Services)
    return svc


async def _consult(harness: Harness, member_id: int, question: str = STORY) -> str:
    member = FakeUser(id=member_id, first_name=f"会员{member_id}")
    await harness.say(question, member)
    done = await harness.press("转人工", member)
    match = NUMBER.search(done["text"])
    assert match, done["text"]
    return match.group()


async def _command(
    harness: Harness, chat_id: int, text: str, user: FakeUser | None = None
) -> None:
    await harness.process(
        harness.fake.user_message(user or harness.staffer, chat_id, text=text, enqueue=False)
    )


def _labels(message: dict[str, Any]) -> list[str]:
    keyboard = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button["text"] for row in keyboard for button in row]


def _set(harness: Harness, number: str, **values: Any) -> None:
    with Session(harness.engine) as session:
        case = session.exec(select(Case).where(Case.number == number)).one()
        for key, value in values.items():
            setattr(case, key, value)
        session.add(case)
        session.commit()


async def test_cases_lists_pages_and_filters(harness: Harness) -> None:
    numbers = [await _consult(harness, 760000 + i) for i in range(12)]
    await _command(harness, RIGHTS, "/cases")
    listing = harness.last(RIGHTS)
    assert "共 12 件，第 1/2 页" in listing["text"]
    assert sum(label.startswith("HD-") for label in _labels(listing)) == 10
    assert numbers[-1] in _labels(listing)[0], "newest first"
    await harness.press_on(RIGHTS, listing["message_id"], "下一页")
    second = harness.fake.message(RIGHTS, listing["message_id"])
    assert "第 2/2 页" in second["text"]  # type: ignore[index]
    assert numbers[0] in str(second)
    # Filters: status and mine.
    first_card = _card(harness, RIGHTS, numbers[0])
    await harness.press_on(RIGHTS, first_card["message_id"], "受理")
    await _command(harness, RIGHTS, "/cases 已受理 我的")
    mine = harness.last(RIGHTS)
    assert "共 1 件" in mine["text"] and numbers[0] in str(_labels(mine))
    await _command(harness, RIGHTS, "/cases 乱写")
    assert "看不懂“乱写”" in harness.last(RIGHTS)["text"]
    # Picking a case from the list shows its history under its card.
    await harness.press_on(RIGHTS, mine["message_id"], numbers[0])
    history = harness.last(RIGHTS)
    assert f"{numbers[0]}</b> 办理记录" in history["_html"] and "受理" in history["text"]
    assert history["reply_to_message"]["message_id"] == first_card["message_id"]


async def test_case_and_search(harness: Harness) -> None:
    number = await _file_service_card(harness)
    await _command(harness, ORGANIZATION, f"/case {number}")
    copy = harness.last(ORGANIZATION)
    assert copy["text"].startswith(f"申请 {number}") and "办理记录" in copy["text"]
    assert copy.get("has_protected_content") and "受理" in _labels(copy)
    await _command(harness, RIGHTS, "/search 张测试")
    found = harness.last(RIGHTS)
    assert "（1 件）" in found["text"] and number in str(_labels(found))
    await _command(harness, RIGHTS, f"/search {number[-3:]}")
    assert number in str(_labels(harness.last(RIGHTS)))
    await _command(harness, RIGHTS, "/search 不存在的单位")
    assert "没有找到" in harness.last(RIGHTS)["text"]
    await _command(harness, RIGHTS, "/case HD-2026-999999")
    assert "没有找到" in harness.last(RIGHTS)["text"]
    await _command(harness, RIGHTS, "/cases", user=OUTSIDER)
    assert "不在工作人员名单中" in harness.last(RIGHTS)["text"]


async def test_stats_and_the_weekly_chart(harness: Harness, cjk_font: str) -> None:
    _roster(harness, LEAD, "权益保障部", StaffRole.LEAD)
    rights = [await _consult(harness, 770000 + i) for i in range(3)]
    organizing = await _consult(harness, 770010, "我们单位想成立工会，不知道从哪开始")
    card = _card(harness, RIGHTS, rights[0])
    await harness.press_on(RIGHTS, card["message_id"], "受理")
    await harness.press_on(RIGHTS, card["message_id"], "办结")
    prompt = harness.last(RIGHTS)
    await harness.staff_reply(RIGHTS, prompt["message_id"], "已答复")
    member = FakeUser(id=770000, first_name="会员770000")
    await harness.press("满意", member)
    await _command(harness, RIGHTS, "/stats", user=harness.staffer)
    assert "负责人" in harness.last(RIGHTS)["text"], "a handler sees no statistics"
    await _command(harness, RIGHTS, "/stats 本月", user=LEAD)
    text, chart = harness.fake.bot_messages(RIGHTS)[-2:]
    assert "案件 3 件" in text["text"], "a department lead counts their department's cases"
    assert "已办结 1" in text["text"] and "满意度：100%" in text["text"]
    assert organizing not in text["text"]
    assert "photo" in chart
    photo = await harness.app.bot.get_file(chart["photo"][-1]["file_id"])
    png = bytes(await photo.download_as_bytearray())
    assert (image_size(png) or ("",))[0] == "png"
    with Session(harness.engine) as session:
        cases = session.exec(select(Case)).all()
    now = utcnow()
    weeks, series = weekly_counts(cases, now - timedelta(days=20), now)
    assert sum(sum(counts) for counts in series.values()) == 4
    assert sum(series["权益保障部"]) == 3 and sum(series["组织部"]) == 1
    assert len(weeks) >= 3


async def test_export_is_masked_private_and_logged(harness: Harness) -> None:
    _roster(harness, ADMIN_STAFFER, "全部", StaffRole.ADMIN)
    number = await _file_service_card(harness)
    with Session(harness.engine) as session:
        answers = session.exec(select(Case)).one().answers or {}
    id_number = answers["id_number"]
    await _command(harness, RIGHTS, "/export")
    assert "私聊机器人" in harness.last(RIGHTS)["text"], "no private chat yet"
    _started_privately(harness, harness.staffer)
    await _command(harness, RIGHTS, "/export 申请")
    xlsx, csv_file = harness.fake.bot_messages(harness.staffer.id)[-2:]
    assert xlsx["document"]["file_name"].endswith(".xlsx")
    assert "已脱敏" in xlsx["caption"]
    rows = await _xlsx_rows(harness, xlsx)
    assert rows[0][0] == "编号" and rows[1][0] == number and len(rows) == 2
    assert id_number not in str(rows) and id_number[:3] + "*" in str(rows)
    table = list(csv.reader(io.StringIO((await _download(harness, csv_file)).decode("utf-8-sig"))))
    assert table[1][0] == number and id_number not in str(table)
    await _command(harness, RIGHTS, "/export 全量")
    assert "只有管理员" in harness.last(RIGHTS)["text"]
    _started_privately(harness, ADMIN_STAFFER)
    await _command(harness, RIGHTS, "/export 全量", user=ADMIN_STAFFER)
    full = harness.fake.bot_messages(ADMIN_STAFFER.id)[-2]
    assert id_number in str(await _xlsx_rows(harness, full))
    with Session(harness.engine) as session:
        exports = session.exec(select(CaseEvent).where(CaseEvent.action == "exported")).all()
    assert [e.detail["full"] for e in exports] == [False, True]


async def _download(harness: Harness, message: dict[str, Any]) -> bytes:
    """A document the bot sent, fetched back the way a client would."""
    telegram_file = await harness.app.bot.get_file(message["document"]["file_id"])
    return bytes(await telegram_file.download_as_bytearray())


async def _xlsx_rows(harness: Harness, message: dict[str, Any]) -> list[list[Any]]:
    book = load_workbook(io.BytesIO(await _download(harness, message)))
    sheet = book.active
    assert sheet is not None
    return [list(row) for row in sheet.iter_rows(values_only=True)]


async def test_staff_command_manages_the_roster(harness: Harness) -> None:
    await _command(harness, RIGHTS, "/staff add 123 新人 权益保障部 handler")
    assert "只有管理员" in harness.last(RIGHTS)["text"]
    _roster(harness, ADMIN_STAFFER, "全部", StaffRole.ADMIN)
    await _command(harness, RIGHTS, "/staff add 123456 新干事 权益保障部 lead", ADMIN_STAFFER)
    assert "已加入名单：123456  新干事  权益保障部  负责人" in harness.last(RIGHTS)["text"]
    await _command(harness, RIGHTS, "/staff add 123456 新干事 财务部 lead", ADMIN_STAFFER)
    assert "没有“财务部”这个部门" in harness.last(RIGHTS)["text"]
    await _command(harness, RIGHTS, "/staff", ADMIN_STAFFER)
    assert "新干事" in harness.last(RIGHTS)["text"] and "管理员" in harness.last(RIGHTS)["text"]
    await _command(harness, RIGHTS, f"/staff remove {ADMIN_STAFFER.id}", ADMIN_STAFFER)
    assert "最后一位管理员" in harness.last(RIGHTS)["text"]
    await _command(harness, RIGHTS, "/staff remove 123456", ADMIN_STAFFER)
    assert "已移出名单" in harness.last(RIGHTS)["text"]


async def test_the_morning_digest_lists_the_right_cases(harness: Harness) -> None:
    overdue, due_soon, unaccepted, fine = [await _consult(harness, 780000 + i) for i in range(4)]
    monday = datetime(2026, 12, 7, 9, 0, tzinfo=CHINA)  # a working day
    _set(harness, overdue, due_at=monday - timedelta(days=2), status=CaseStatus.IN_PROGRESS)
    _set(harness, due_soon, due_at=monday + timedelta(hours=30), status=CaseStatus.ACCEPTED)
    _set(
        harness,
        unaccepted,
        created_at=monday - timedelta(days=3),
        due_at=monday + timedelta(days=9),
    )
    _set(harness, fine, created_at=monday - timedelta(hours=1), due_at=monday + timedelta(days=9))
    svc = _svc(harness)
    assert send_digests(svc, monday) == len(svc.settings.staff_chats())
    await svc.postman.flush(harness.app.bot)
    digest = harness.last(RIGHTS)["text"]
    sections = digest.split("\n\n")
    assert overdue in sections[1] and "已超期" in sections[1]
    assert due_soon in sections[2] and "一个工作日内到期" in sections[2]
    assert unaccepted in sections[3] and "未受理" in sections[3]
    assert fine not in digest
    assert "今天没有" in harness.last(ORGANIZATION)["text"]
    saturday = datetime(2026, 12, 5, 9, 0, tzinfo=CHINA)
    assert send_digests(svc, saturday) == 0, "no digest on a day off"


async def test_a_burst_waits_for_the_digest(tmp_path: Path, router: Router) -> None:
    settings = harness_settings(tmp_path, cards_per_hour=2)
    async with running(settings, make_engine(settings.database_url), router) as harness:
        numbers = [await _consult(harness, 790000 + i) for i in range(3)]
        cards = [m for m in harness.fake.bot_messages(RIGHTS) if m["text"].startswith("人工咨询")]
        assert len(cards) == 2, "the third card waits"
        with Session(harness.engine) as session:
            held = session.exec(select(Case).where(Case.number == numbers[2])).one()
        assert held.card_held
        assert "已为您转接人工" in harness.texts(790002)[-1], "the member is served all the same"
        svc = _svc(harness)
        assert send_held_digests(svc) == 1
        assert send_held_digests(svc) == 0, "each waiting case is listed once"
        await svc.postman.flush(harness.app.bot)
        listing = harness.last(RIGHTS)
        assert "近一小时新到 1 件" in listing["text"] and numbers[2] in listing["text"]
        await harness.press_on(RIGHTS, listing["message_id"], f"展开 {numbers[2]}")
        card = _card(harness, RIGHTS, numbers[2])
        assert card["text"].startswith(f"人工咨询 {numbers[2]}") and "受理" in _labels(card)
