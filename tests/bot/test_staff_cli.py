"""`union-bot staff` manages the roster on the bot's database; `union-bot doctor` checks it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import bot_env


def run(tmp_path: Path, *args: str, **settings: object) -> subprocess.CompletedProcess[str]:
    env = bot_env(database_url=f"sqlite:///{tmp_path / 'bot.db'}", **settings)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


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
    first = run(tmp_path, "doctor", **settings)
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
    ready = run(tmp_path, "doctor", **settings)
    assert "✓ 工作人员名单：1 人，其中管理员 1 人。" in ready.stdout
    assert re.search(r"^[✓!] 工作日历：", ready.stdout, re.MULTILINE)
    assert "! 组织部没有单独的工作群" in ready.stdout
    missing_token = run(tmp_path, "doctor", staff_chat_general=-100123)
    assert "✗ 设置有问题：UNIONBOT_TOKEN is missing" in missing_token.stdout
