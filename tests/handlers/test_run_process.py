"""`union-bot run` as a real process, long-polling a fake Bot API server over HTTP."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.fake import FakeTelegram, FakeTelegramServer, FakeUser
from tests.conftest import bot_env
from tests.handlers.conftest import GENERAL, RIGHTS, TOKEN

REPO = Path(__file__).resolve().parents[2]


def _wait_for(condition: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.05)
    raise AssertionError("timed out waiting for the bot")


STAFFER_ARGS = ("--name", "干事", "--department", "权益保障部")


@pytest.fixture
def server() -> Iterator[tuple[FakeTelegram, FakeTelegramServer]]:
    fake = FakeTelegram(token=TOKEN)
    for chat_id, title in ((GENERAL, "综合工作群"), (RIGHTS, "权益保障部工作群")):
        fake.register_chat(chat_id, type="supergroup", title=title)
    http = FakeTelegramServer(fake)
    http.start()
    yield fake, http
    http.stop()


def test_run_polls_the_api_server_and_answers(
    server: tuple[FakeTelegram, FakeTelegramServer], tmp_path: Path, cache_dir: Path
) -> None:
    fake, http = server
    env = bot_env(
        token=TOKEN,
        api_base_url=http.base_url,
        data_dir=tmp_path,
        staff_chat_general=GENERAL,
        staff_chat_rights=RIGHTS,
        cache_dir=cache_dir,
    )
    # The staffer who answers is put on the roster the way an admin would.
    added = subprocess.run(
        [sys.executable, "-m", "bot.cli", "staff", "add", "800777", *STAFFER_ARGS],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert added.returncode == 0 and "已加入名单" in added.stdout, added.stderr
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    member = FakeUser(id=700777, first_name="进程测试")
    try:
        _wait_for(lambda: fake.commands)  # post_init ran: the command menu is set
        fake.user_message(member, text="会员卡怎么办理")
        answer = _wait_for(lambda: fake.last_bot_message(member.id))
        assert "办理流程" in answer["text"]

        fake.user_message(member, text="我老公查出癌症，家里困难，想申请帮扶")
        _wait_for(lambda: len(fake.bot_messages(member.id)) >= 2)
        buttons = fake.last_bot_message(member.id)["reply_markup"]["inline_keyboard"]  # type: ignore[index]
        human = next(b for row in buttons for b in row if b["text"] == "转人工")
        fake.press_button(
            member,
            member.id,
            fake.last_bot_message(member.id)["message_id"],
            human["callback_data"],
        )  # type: ignore[index]
        card = _wait_for(lambda: fake.last_bot_message(RIGHTS))
        assert "癌症" in card["text"]
        staffer = FakeUser(id=800777, first_name="干事")
        fake.user_message(
            staffer, RIGHTS, text="请带诊断证明来。", reply_to_message_id=card["message_id"]
        )
        relayed = _wait_for(
            lambda: any(
                "请带诊断证明来" in (m.get("text") or "") for m in fake.bot_messages(member.id)
            )
        )
        assert relayed
        assert (tmp_path / "union-bot.db").exists()
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert "Traceback" not in output, output
    assert TOKEN.split(":")[1] not in output, "the token never reaches the log"
    assert "癌症" not in output, "questions are not logged"


def test_run_refuses_to_start_without_a_token(tmp_path: Path) -> None:
    env = bot_env()
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "union-bot run: UNIONBOT_TOKEN is missing"


def test_a_refused_token_is_one_line_and_never_printed(
    server: tuple[FakeTelegram, FakeTelegramServer], tmp_path: Path, cache_dir: Path
) -> None:
    _, http = server
    wrong = "555000111:not-the-right-secret"
    env = bot_env(
        token=wrong,
        api_base_url=http.base_url,
        data_dir=tmp_path,
        staff_chat_general=GENERAL,
        cache_dir=cache_dir,
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "UNIONBOT_TOKEN was refused" in result.stderr
    assert "not-the-right-secret" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
