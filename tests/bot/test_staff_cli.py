"""`union-bot staff` manages the roster on the bot's database; `union-bot doctor` checks it,
the migrations, the token and the staff chats (against a fake Bot API server over HTTP)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.fake import FakeTelegram, FakeTelegramServer
from storage.db import make_engine
from storage.migrate import revisions, upgrade
from tests.conftest import union_bot


def run(tmp_path: Path, *args: str, **settings: object) -> subprocess.CompletedProcess[str]:
    return union_bot(tmp_path, *args, database_url=f"sqlite:///{tmp_path / 'bot.db'}", **settings)


def test_staff_add_list_change_and_remove(tmp_path: Path) -> None:
    added = run(
        tmp_path, "staff", "add", "123456789", "--name", "李干事", "--department", "权益保障部"
    )
    assert added.returncode == 0, added.stderr
    assert "已加入名单：123456789  李干事  权益保障部  经办人" in added.stdout
    lead = run(
        tmp_path, "staff", "add", "223456789", "--name", "王科长", "--department", "all",
        "--role", "lead",
    )  # fmt: skip
    assert "王科长  全部  负责人" in lead.stdout
    changed = run(
        tmp_path, "staff", "add", "123456789", "--name", "李干事", "--department", "组织部",
        "--role", "admin",
    )  # fmt: skip
    assert "已更新：123456789  李干事  组织部  管理员" in changed.stdout
    listing = run(tmp_path, "staff", "list")
    assert "工作人员名单（2 人）" in listing.stdout and "王科长" in listing.stdout
    removed = run(tmp_path, "staff", "remove", "223456789")
    assert removed.returncode == 0 and "已移出名单" in removed.stdout
    assert run(tmp_path, "staff", "remove", "223456789").returncode == 1
    assert "王科长" not in run(tmp_path, "staff", "list").stdout


def test_staff_add_refuses_what_cannot_be(tmp_path: Path) -> None:
    department = run(tmp_path, "staff", "add", "1", "--name", "甲", "--department", "财务部")
    assert department.returncode == 2 and "没有“财务部”这个部门" in department.stderr
    role = run(
        tmp_path, "staff", "add", "1", "--name", "甲", "--department", "组织部", "--role", "boss"
    )
    assert role.returncode == 2 and "没有“boss”这个角色" in role.stderr
    assert "名单是空的" in run(tmp_path, "staff", "list").stdout


def test_doctor_names_what_to_fix(tmp_path: Path) -> None:
    settings = {"token": "1:abc", "staff_chat_general": -100123}
    first = run(tmp_path, "doctor", "--offline", **settings)
    assert first.returncode == 1
    assert "✗ 数据库还没有建表" in first.stdout
    run(tmp_path, "db", "upgrade")
    run(
        tmp_path,
        "staff",
        "add",
        "9",
        "--name",
        "王主任",
        "--department",
        "全部",
        "--role",
        "admin",
    )
    ready = run(tmp_path, "doctor", "--offline", **settings)
    assert f"✓ 数据库结构是最新的（版本 {revisions()[-1]}）。" in ready.stdout
    assert "✓ 工作人员名单：1 人，其中管理员 1 人。" in ready.stdout
    assert re.search(r"^[✓!] 工作日历：", ready.stdout, re.MULTILINE)
    assert "! 组织部没有单独的工作群" in ready.stdout
    assert "! 没有联网检查令牌和工作群（--offline）。" in ready.stdout
    missing_token = run(tmp_path, "doctor", "--offline", staff_chat_general=-100123)
    assert "✗ 设置有问题：UNIONBOT_TOKEN is missing" in missing_token.stdout


def test_doctor_says_when_the_database_is_behind_the_migrations(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.db'}", migrate=False)
    upgrade(engine, "0002")
    behind = run(tmp_path, "doctor", "--offline", token="1:abc", staff_chat_general=-100123)
    assert behind.returncode == 1
    head = revisions()[-1]
    assert (
        f"✗ 数据库结构不是最新的（版本 0002，本程序需要 {head}）：请运行 union-bot db upgrade"
        in behind.stdout
    )
    assert run(tmp_path, "db", "upgrade").returncode == 0
    upgraded = run(tmp_path, "doctor", "--offline", token="1:abc", staff_chat_general=-100123)
    assert f"✓ 数据库结构是最新的（版本 {head}）。" in upgraded.stdout
    assert "数据库结构不是最新的" not in upgraded.stdout


# ------------------------------------------------------------------ doctor against Telegram
TOKEN = "5550001:doctor-test-token"
GENERAL, RIGHTS, PUBLICITY, DEMOCRATIC = -100500, -100600, -100700, -100800


@pytest.fixture
def telegram() -> Iterator[tuple[FakeTelegram, FakeTelegramServer]]:
    fake = FakeTelegram(token=TOKEN, bot_username="hedong_union_bot")
    http = FakeTelegramServer(fake)
    http.start()
    yield fake, http
    http.stop()


def _online_doctor(
    tmp_path: Path, http: FakeTelegramServer, token: str = TOKEN, **chats: int
) -> subprocess.CompletedProcess[str]:
    run(tmp_path, "db", "upgrade")
    return run(
        tmp_path,
        "doctor",
        token=token,
        api_base_url=http.base_url,
        staff_chat_general=GENERAL,
        **chats,
    )


def _problems(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("✗")]


def test_doctor_finds_the_bot_in_every_staff_chat(
    telegram: tuple[FakeTelegram, FakeTelegramServer], tmp_path: Path
) -> None:
    fake, http = telegram
    fake.register_chat(GENERAL, type="supergroup", title="河东工会综合群")
    fake.register_chat(RIGHTS, type="supergroup", title="权益保障部", bot_is_admin=True)
    result = _online_doctor(tmp_path, http, staff_chat_rights=RIGHTS)
    assert "✓ 令牌有效：机器人是 @hedong_union_bot（河东区总工会服务助手）。" in result.stdout
    assert (
        f"✓ 综合工作群（UNIONBOT_STAFF_CHAT_GENERAL={GENERAL}）：机器人在「河东工会综合群」里，"
        "身份是成员。" in result.stdout
    )
    assert (
        f"✓ 权益保障部工作群（UNIONBOT_STAFF_CHAT_RIGHTS={RIGHTS}）：机器人在「权益保障部」里，"
        "身份是管理员。" in result.stdout
    )
    assert not any("UNIONBOT_STAFF_CHAT" in line for line in _problems(result.stdout))
    assert {name for name, _ in fake.calls} >= {"getMe", "getChat", "getChatMember"}


def test_doctor_says_a_refused_token_and_how_to_fix_it(
    telegram: tuple[FakeTelegram, FakeTelegramServer], tmp_path: Path
) -> None:
    fake, http = telegram
    fake.register_chat(GENERAL, type="supergroup", title="综合群")
    wrong = "5550001:not-the-right-secret"
    result = _online_doctor(tmp_path, http, token=wrong)
    assert result.returncode == 1
    assert "✗ Bot API 服务器拒绝了 UNIONBOT_TOKEN：请在 @BotFather 用 /token" in result.stdout
    assert "令牌有效" not in result.stdout
    assert "not-the-right-secret" not in result.stdout + result.stderr, "the token stays secret"
    assert "Traceback" not in result.stderr, result.stderr


def test_doctor_says_an_unreachable_api_server(tmp_path: Path) -> None:
    with FakeTelegramServer() as http:
        base_url = http.base_url  # a port nobody listens on once the server stops
    result = run(
        tmp_path, "doctor", token=TOKEN, api_base_url=base_url, staff_chat_general=GENERAL
    )
    assert result.returncode == 1
    assert f"✗ 连不上 Bot API 服务器 {base_url}（NetworkError）" in result.stdout
    assert "Traceback" not in result.stderr, result.stderr


def test_doctor_names_the_staff_chats_the_bot_is_not_in(
    telegram: tuple[FakeTelegram, FakeTelegramServer], tmp_path: Path
) -> None:
    fake, http = telegram
    fake.register_chat(GENERAL, type="supergroup", title="综合群")
    fake.register_chat(PUBLICITY, type="supergroup", title="宣传教育部")
    fake.block(PUBLICITY)  # an admin removed (banned) the bot
    fake.register_chat(DEMOCRATIC, type="supergroup", title="民主管理部")
    fake.handle("leaveChat", {"chat_id": DEMOCRATIC})
    # RIGHTS was never registered: the bot was never added to it.
    result = _online_doctor(
        tmp_path,
        http,
        staff_chat_rights=RIGHTS,
        staff_chat_publicity=PUBLICITY,
        staff_chat_democratic_management=DEMOCRATIC,
    )
    assert result.returncode == 1
    problems = _problems(result.stdout)
    assert (
        f"✗ 权益保障部工作群（UNIONBOT_STAFF_CHAT_RIGHTS={RIGHTS}）：Telegram 找不到这个群，"
        "机器人没被拉进去过或 ID 写错了：请把机器人加入该群，或改正 UNIONBOT_STAFF_CHAT_RIGHTS。"
    ) in problems
    assert (
        f"✗ 宣传教育部工作群（UNIONBOT_STAFF_CHAT_PUBLICITY={PUBLICITY}）：机器人被踢出了这个群，"
        "案件卡片发不进去：请在群设置里把它移出黑名单，再把机器人加入该群。"
    ) in problems
    assert (
        "✗ 民主管理部工作群（UNIONBOT_STAFF_CHAT_DEMOCRATIC_MANAGEMENT="
        f"{DEMOCRATIC}）：机器人已不在这个群里，案件卡片发不进去：请把机器人重新加入该群。"
    ) in problems
    assert f"✓ 综合工作群（UNIONBOT_STAFF_CHAT_GENERAL={GENERAL}）" in result.stdout
    assert "✓ 令牌有效" in result.stdout
