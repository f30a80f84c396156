"""`union-bot chat` (the README's main job) and `union-bot misses`, as real processes."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot.app import build_application, startup
from bot.chat import CHAT_TOKEN, DEMO_STAFF_CHATS, TerminalChat
from bot.fake import FakeRequest, FakeTelegram
from bot.services import SERVICES_KEY
from bot.settings import Settings
from knowledge.router import Router
from tests.conftest import bot_env
from tests.factories import TEST_KEY

REPO = Path(__file__).resolve().parents[2]


def _cli(args: list[str], cwd: Path, cache_dir: Path, stdin: str = "", **settings: str) -> str:
    env = bot_env(cache_dir=cache_dir, **settings)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "Warning" not in result.stderr, result.stderr
    return result.stdout


def test_chat_is_scriptable_and_shows_member_and_staff_sides(
    tmp_path: Path, cache_dir: Path
) -> None:
    script = "\n".join(
        [
            "会员卡怎么办理",
            "法定依据",  # a button pressed by its label
            "劳模",
            "2",  # a button pressed by its number: 负责全区困难劳模帮扶工作
            "我老公查出癌症，家里困难",
            "转人工",
            "staff: 您好，请带诊断证明来",
            "还要带户口本吗",
            "staff: /close",
            "社保怎么交",
        ]
    )
    out = _cli(["chat"], tmp_path, cache_dir, script + "\n")
    assert "1. 在指定时间个人向本级工会提交办卡材料" in out
    assert "  [1] 所需材料" in out
    assert "助手（更新）：" in out and "法定依据" in out
    assert "负责全区困难劳模帮扶工作" in out
    assert "[权益保障部工作群] 助手：人工咨询 HD-" in out
    assert "工作人员回复" in out and "您好，请带诊断证明来" in out
    assert "会员追加消息：\n还要带户口本吗" in out
    assert "工作人员已结束人工咨询" in out
    assert "12333" in out


def test_a_form_paused_for_a_person_and_resumed_warns_of_nothing(
    tmp_path: Path, cache_dir: Path
) -> None:
    """继续填写 is a form button whose old buttons are taken off after the answer: the terminal
    chat does that at once, not as a task nobody awaits (PTB warns of those)."""
    script = "\n".join(
        ["我要申请会员服务卡", "在线申请：办理会员服务卡", "同意并开始填写", "转人工", "继续填写"]
    )
    out = _cli(["chat"], tmp_path, cache_dir, script + "\n")
    turns = _turns(out)
    assert turns[-1][0] == "继续填写"
    assert "请问您目前是在职的工会会员吗" in turns[-1][1]


def _turns(out: str) -> list[tuple[str, str]]:
    """The printed chat as (what was typed, what followed it), in order."""
    turns = re.split(r"^您：", out, flags=re.MULTILINE)[1:]
    return [(turn.split("\n", 1)[0], turn.split("\n", 1)[1]) for turn in turns]


def test_one_person_plays_member_and_staffer_with_the_card_buttons(
    tmp_path: Path, cache_dir: Path
) -> None:
    script = [
        "我老公查出癌症，家里困难",
        "转人工",
        "s1",  # 受理, on the card
        "staff: 您好，我是李干事",
        "s1",  # 办结: after 受理 and a reply the card's first button
        "staff: 已为您登记",  # the answer to the prompt for the result
        "1",  # the member rates: 满意
    ]
    out = _cli(["chat"], tmp_path, cache_dir, "\n".join(script) + "\n")
    turns = _turns(out)
    assert [typed for typed, _ in turns] == script
    (_, _), (_, handoff), (_, accept), (_, reply), (_, done), (_, answer), (_, rated) = turns
    number = re.search(r"HD-\d{4}-\d{6}", handoff)
    assert number is not None
    case = number.group()

    assert f"[权益保障部工作群] 助手：人工咨询 {case} · 已提交" in handoff
    assert "\n  [s1] 受理\n  [s2] 转派  [s3] 改派经办人\n" in handoff
    assert "  [1] 结束人工咨询" in handoff, "the member's buttons keep their own numbers"

    assert f"[权益保障部工作群] 助手（更新）：人工咨询 {case} · 已受理" in accept
    assert f"[李干事 私聊] 助手：您已受理 {case}" in accept, "the brief reaches the staffer"
    assert f"助手：您的人工咨询（{case}）已由权益保障部工作人员接手" in accept
    assert f"（提示：{case} 已由 李 干事 受理" in accept
    assert "\n  [s1] 办结\n" in accept

    assert f"工作人员回复（{case}）：\n您好，我是李干事" in reply
    assert "\n  [s1] 办结\n" in reply

    assert "[权益保障部工作群] 助手：李 干事，请回复本消息，写明办理结果" in done
    assert "staff: 文本" in done

    assert f"助手：您的人工咨询（{case}）已办结。\n办理结果：已为您登记" in answer
    assert f"助手：请您对 {case} 的办理进行评价：\n  [1] 满意" in answer
    assert f"[权益保障部工作群] 助手（更新）：人工咨询 {case} · 已办结" in answer
    assert "工作人员回复" not in answer, "the words answered the prompt, not the card"
    assert "[s1] 办结" not in answer and "\n  [s1] 查看完整信息  [s2] 备注\n" in answer

    assert "感谢您的评价" in rated
    assert "评价：满意" in rated


def _staff_message(fake: FakeTelegram, chat_id: int, staffer_id: int) -> dict[str, Any]:
    said = [m for m in fake.messages(chat_id) if m["from"]["id"] == staffer_id]
    assert said, f"the staffer said nothing in {chat_id}"
    return said[-1]


async def test_staff_lines_go_where_a_staffer_would_put_them(
    tmp_path: Path, router: Router
) -> None:
    values: dict[str, Any] = {
        "token": CHAT_TOKEN,
        "api_base_url": "http://fake.telegram.invalid/bot",
        "database_url": f"sqlite:///{tmp_path / 'chat.db'}",
        "files_dir": tmp_path / "files",
        "encryption_key": TEST_KEY,
        **DEMO_STAFF_CHATS,
    }
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    general, rights = settings.staff_chat_general, settings.staff_chat_rights
    assert rights is not None
    fake = FakeTelegram(token=CHAT_TOKEN)
    app = build_application(settings, request=FakeRequest(fake), router=router)
    out = io.StringIO()
    async with app:
        await startup(app, deliver_in_background=False)
        chat = TerminalChat(app, fake, settings, out)
        staffer = chat.staffer.id

        await chat.handle("s1")
        assert "（员工群里没有可按的按钮。）" in out.getvalue()
        # A command before any case: said in the general staff chat, not as a reply.
        await chat.handle("staff: /stats")
        command = _staff_message(fake, general, staffer)
        assert command["text"] == "/stats" and "reply_to_message" not in command

        await chat.handle("我老公查出癌症，家里困难")
        await chat.handle("转人工")
        card = fake.bot_messages(rights)[-1]
        assert card["text"].startswith("人工咨询 HD-")
        await chat.handle("s99")
        assert "（没有按钮 s99，可按 s1–s" in out.getvalue()

        # A label typed out presses that button; the prompt it brings takes the next words.
        await chat.handle("staff: 备注")
        prompt = fake.bot_messages(rights)[-1]
        assert prompt["_reply_markup"]["force_reply"] is True
        member_messages = len(fake.bot_messages(chat.member.id))
        await chat.handle("staff: 家属正在住院")
        note = _staff_message(fake, rights, staffer)
        assert note["reply_to_message"]["message_id"] == prompt["message_id"]
        assert any("家属正在住院" in m["text"] for m in fake.bot_messages(rights)[-2:])
        assert len(fake.bot_messages(chat.member.id)) == member_messages, "notes stay inside"

        # With the prompt answered, words reply to the case again: they reach the member.
        await chat.handle("staff: 您好")
        reply = _staff_message(fake, rights, staffer)
        assert reply["reply_to_message"]["message_id"] != prompt["message_id"]
        assert "：\n您好\n" in fake.bot_messages(chat.member.id)[-1]["text"]

        # 查看完整信息 reaches the staffer's private chat, shown under its own label.
        await chat.handle("staff: 查看完整信息")
        assert "完整信息" in fake.bot_messages(staffer)[-1]["text"]
        assert "[李干事 私聊] 助手：HD-" in out.getvalue()

        # Later commands: in the chat of the latest case, still not replies; /close is one.
        await chat.handle("staff: /cases")
        command = _staff_message(fake, rights, staffer)
        assert command["text"] == "/cases" and "reply_to_message" not in command
        await chat.handle("staff: /close")
        close = _staff_message(fake, rights, staffer)
        assert close["text"] == "/close" and "reply_to_message" in close
        told = [m["text"] for m in fake.bot_messages(chat.member.id)[-2:]]
        assert any("工作人员已结束人工咨询" in text for text in told)
    app.bot_data[SERVICES_KEY].engine.dispose()


def test_misses_lists_what_the_bot_could_not_settle(tmp_path: Path, cache_dir: Path) -> None:
    env_db = f"sqlite:///{tmp_path / 'misses.db'}"
    _cli(
        ["chat"],
        tmp_path,
        cache_dir,
        "社保怎么交\n社保怎么交\n劳模\n都不是\n你好\n我的电话13900001234，帮我查快递\n",
        database_url=env_db,
    )
    env = bot_env(database_url=env_db)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "misses"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    first = next(line for line in lines if "社保怎么交" in line)
    assert first.split()[0] == "2", "counted, most frequent first"
    assert any(
        "劳模" in line and "none_of_these×1" in line and "unsure×1" in line for line in lines
    )
    assert "你好" not in result.stdout, "small talk is no miss"
    assert "13900001234" not in result.stdout, "numbers in questions are masked"
