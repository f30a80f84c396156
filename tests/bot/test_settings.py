"""Settings: environment in, one clear line out when something is wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, StorageSettings, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout
    for name in list(__import__("os").environ):
        if name.startswith("UNIONBOT_"):
            monkeypatch.delenv(name)


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNIONBOT_TOKEN", "123456:abc-DEF")
    monkeypatch.setenv("UNIONBOT_STAFF_CHAT_GENERAL", "-100200")
    monkeypatch.setenv("UNIONBOT_STAFF_CHAT_RIGHTS", "-100300")
    monkeypatch.setenv("UNIONBOT_ADMIN_IDS", "11, 22")
    monkeypatch.setenv("UNIONBOT_API_BASE_URL", "http://127.0.0.1:8081/bot")
    settings = load_settings(Settings)
    assert settings.bot_id == 123456
    assert settings.admin_ids == (11, 22)
    assert settings.api_base_url == "http://127.0.0.1:8081/bot"
    assert settings.api_base_file_url == "http://127.0.0.1:8081/file/bot"
    assert settings.staff_chat_for("权益保障部") == -100300
    assert settings.staff_chat_for("组织部") == -100200, "unset departments use the general chat"
    assert settings.staff_chat_for(None) == -100200
    assert settings.database_url == "sqlite:///data/union-bot.db"
    assert "abc-DEF" not in repr(settings), "the token is a secret"


def test_a_dot_env_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "UNIONBOT_TOKEN=42:xyz\nUNIONBOT_STAFF_CHAT_GENERAL=-5\nUNIONBOT_UNION_NAME=测试工会\n",
        encoding="utf-8",
    )
    settings = load_settings(Settings)
    assert settings.union_name == "测试工会"
    assert settings.staff_chat_general == -5


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"UNIONBOT_STAFF_CHAT_GENERAL": "-1"}, "UNIONBOT_TOKEN is missing"),
        ({"UNIONBOT_TOKEN": "1:a"}, "UNIONBOT_STAFF_CHAT_GENERAL is missing"),
        ({"UNIONBOT_TOKEN": "not-a-token", "UNIONBOT_STAFF_CHAT_GENERAL": "-1"}, "UNIONBOT_TOKEN"),
        ({"UNIONBOT_TOKEN": "1:a", "UNIONBOT_STAFF_CHAT_GENERAL": "x"}, "STAFF_CHAT_GENERAL"),
        (
            {
                "UNIONBOT_TOKEN": "1:a",
                "UNIONBOT_STAFF_CHAT_GENERAL": "-1",
                "UNIONBOT_API_BASE_URL": "ftp://x",
            },
            "UNIONBOT_API_BASE_URL is invalid",
        ),
        (
            {
                "UNIONBOT_TOKEN": "1:a",
                "UNIONBOT_STAFF_CHAT_GENERAL": "-1",
                "UNIONBOT_CASE_KEEP_DAYS": "7",
                "UNIONBOT_CASE_WARN_DAYS": "7",
            },
            "UNIONBOT_CASE_WARN_DAYS must be shorter than UNIONBOT_CASE_KEEP_DAYS",
        ),
    ],
)
def test_a_bad_setting_is_one_line_that_names_it(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], message: str
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        load_settings(Settings)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
    assert "not-a-token" not in str(raised.value)


def test_storage_settings_need_no_token() -> None:
    assert load_settings(StorageSettings).database_url.startswith("sqlite:///")


ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"
# "# UNIONBOT_NAME=value" (a value may be followed by a comment); a line left blank is skipped.
EXAMPLE_SETTING = re.compile(r"^#?\s*(UNIONBOT_\w+)=(\S*)", re.MULTILINE)


def test_env_example_loads_as_it_is_and_with_every_example_filled_in(tmp_path: Path) -> None:
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    (tmp_path / ".env").write_text(text, encoding="utf-8")
    assert load_settings(Settings).staff_chat_general == -1001000000000
    examples = {name: value for name, value in EXAMPLE_SETTING.findall(text) if value}
    (tmp_path / ".env").write_text(
        "".join(f"{name}={value}\n" for name, value in examples.items()), encoding="utf-8"
    )
    filled = load_settings(Settings)
    assert filled.webhook_url == "https://bot.example.org/telegram-hook"
    assert filled.send_rate_per_second == 30 and filled.consultations_per_day == 5
    documented = {name for name, _ in EXAMPLE_SETTING.findall(text)}
    assert documented == {f"UNIONBOT_{field.upper()}" for field in Settings.model_fields}, (
        "every setting is documented in .env.example, under its own name"
    )
