"""`union-bot chat` (the README's main job) and `union-bot misses`, as real processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import bot_env

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
