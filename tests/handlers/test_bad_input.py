"""Input a member should not send, or the bot should not act on: never an exception."""

from __future__ import annotations

import logging

import pytest

from tests.handlers.conftest import ADMIN, RIGHTS, Harness

OTHER_GROUP = -1009999999999


@pytest.fixture(autouse=True)
def no_errors(caplog: pytest.LogCaptureFixture) -> object:
    """Every test here fails if a handler raised (the error handler logs it)."""
    yield
    failures = [r for r in caplog.records if r.name == "handlers.errors"]
    assert failures == [], [r.getMessage() for r in failures]


@pytest.mark.parametrize(
    "kind",
    [{"sticker": True}, {"voice": True}, {"location": (39.12, 117.2)}, {"photo": True}],
    ids=["sticker", "voice", "location", "photo"],
)
async def test_media_outside_a_dialogue_gets_a_friendly_word(
    harness: Harness, kind: dict[str, object]
) -> None:
    await harness.process(harness.fake.user_message(harness.member, enqueue=False, **kind))  # type: ignore[arg-type]
    reply = harness.last(harness.member.id)
    assert "文字" in reply["text"]
    assert harness.fake.bot_messages(RIGHTS) == []


async def test_a_document_outside_a_dialogue(harness: Harness) -> None:
    update = harness.fake.user_message(
        harness.member, document=("a.pdf", b"%PDF-1.4 test", "application/pdf"), enqueue=False
    )
    await harness.process(update)
    assert "文字" in harness.last(harness.member.id)["text"]


async def test_a_4000_character_message_is_answered(harness: Harness) -> None:
    reply = await harness.say("会员卡怎么办理" + "啊" * 3993)
    assert "办理流程" in reply["text"] or "您是想问" in reply["text"]


async def test_emoji_and_control_characters(harness: Harness) -> None:
    for text in ["😀😀😀", "\u200b\u200b", "会员卡\x07\x1b怎么办"]:
        before = len(harness.fake.bot_messages(harness.member.id))
        reply = await harness.say(text)
        assert len(harness.fake.bot_messages(harness.member.id)) == before + 1, text
        assert reply["text"]


async def test_an_edited_message_is_quietly_ignored(harness: Harness) -> None:
    first = harness.fake.user_message(harness.member, text="会员卡", enqueue=False)
    await harness.process(first)
    count = len(harness.fake.bot_messages(harness.member.id))
    edited = harness.fake.user_edits(
        harness.member,
        harness.member.id,
        first["message"]["message_id"],
        "会员卡怎么办理",
        enqueue=False,
    )
    await harness.process(edited)
    assert len(harness.fake.bot_messages(harness.member.id)) == count


async def test_a_forwarded_message_is_read_as_a_question(harness: Harness) -> None:
    friend = {"id": 123123, "is_bot": False, "first_name": "朋友"}
    update = harness.fake.user_message(
        harness.member, text="工会会员服务卡年审怎么弄", forward_from=friend, enqueue=False
    )
    await harness.process(update)
    assert "年审" in harness.last(harness.member.id)["text"]


async def test_groups_that_are_not_staff_chats(harness: Harness) -> None:
    harness.fake.register_chat(OTHER_GROUP, type="supergroup", title="某公司职工群")
    for text in ["会员卡怎么办理", "/menu@some_other_bot", "你好"]:
        await harness.process(
            harness.fake.user_message(harness.member, OTHER_GROUP, text=text, enqueue=False)
        )
    assert harness.fake.bot_messages(OTHER_GROUP) == []
    await harness.process(
        harness.fake.user_message(
            harness.member, OTHER_GROUP, text="/menu@hedong_union_bot", enqueue=False
        )
    )
    assert "私聊" in harness.last(OTHER_GROUP)["text"]


async def test_a_member_cannot_talk_to_the_bot_through_a_staff_chat(harness: Harness) -> None:
    await harness.process(
        harness.fake.user_message(harness.member, RIGHTS, text="会员卡怎么办理", enqueue=False)
    )
    assert harness.fake.bot_messages(RIGHTS) == []


@pytest.mark.parametrize(
    "data",
    ["duty:9.9:overview", "duty:3.2:nonsense", "area:7", "old-format", "human:x", "dept:外交部"],
)
async def test_unknown_or_expired_buttons(harness: Harness, data: str) -> None:
    reply = await harness.say("会员卡怎么办理")
    await harness.process(
        harness.fake.press_button(
            harness.member, harness.member.id, reply["message_id"], data, enqueue=False
        )
    )
    assert harness.fake.callback_answers[-1]["text"].startswith("这个按钮已过期")
    assert harness.last(harness.member.id)["text"] == reply["text"], "nothing changed"


async def test_a_button_on_an_old_message_still_does_what_it_says(harness: Harness) -> None:
    old = await harness.say("会员卡怎么办理")
    await harness.say("你好")
    await harness.process(
        harness.fake.press_button(
            harness.member,
            harness.member.id,
            old["message_id"],
            "duty:3.2:materials",
            enqueue=False,
        )
    )
    assert "所需材料" in harness.fake.message(harness.member.id, old["message_id"])["text"]  # type: ignore[index]
    assert harness.fake.callback_answers[-1].get("text") in (None, "")


async def test_pressing_the_same_button_twice_is_not_an_error(harness: Harness) -> None:
    await harness.say("/menu")
    first = await harness.press("4. 评选劳模及帮扶劳模")
    await harness.process(
        harness.fake.press_button(
            harness.member, harness.member.id, first["message_id"], "area:4", enqueue=False
        )
    )
    assert len(harness.fake.callback_answers) == 2


async def test_an_error_apologises_and_reports_to_admins_without_personal_data(
    harness: Harness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.services import SERVICES_KEY

    svc = harness.app.bot_data[SERVICES_KEY]

    def broken(question: str) -> None:
        raise RuntimeError(f"cannot route {question}")

    monkeypatch.setattr(svc.router, "route", broken)
    harness.fake.register_chat(ADMIN, type="private", first_name="管理员")  # the admin /start-ed
    with caplog.at_level(logging.INFO):
        reply = await harness.say("我的身份证号是990000190001011234")
    assert "系统出了点问题" in reply["text"]
    report = harness.last(ADMIN)["text"]
    assert "RuntimeError" in report
    assert "990000190001011234" not in report
    assert all("990000190001011234" not in r.getMessage() for r in caplog.records)
    caplog.clear()  # the error was the point of this test


async def test_a_button_on_a_message_that_can_no_longer_be_edited(harness: Harness) -> None:
    menu = await harness.say("/menu")
    press = harness.fake.press_button(
        harness.member, harness.member.id, menu["message_id"], "duty:3.2:process", enqueue=False
    )
    # The member deleted the message before the bot got to the press.
    await harness.app.bot.delete_message(harness.member.id, menu["message_id"])
    await harness.process(press)
    assert "办理流程" in harness.last(harness.member.id)["text"], "sent as a new message"


async def test_a_union_name_with_html_characters(harness: Harness) -> None:
    from bot.services import SERVICES_KEY

    svc = harness.app.bot_data[SERVICES_KEY]
    svc.settings.union_name = "河东<区>总工会&"
    reply = await harness.say("/start")
    assert "河东<区>总工会&" in reply["text"]


@pytest.mark.parametrize(
    "data",
    [
        "case:99999999999999999999",
        "fm:9223372036854775808:S",
        "case:²",
        "wd:²",
        "dept:²",
        "prof:save:²",
        "fm:1:o:in_service:²",
        "fm:²:X",
    ],
)
async def test_forged_numbers_in_buttons(harness: Harness, data: str) -> None:
    reply = await harness.say("你好")
    await harness.process(
        harness.fake.press_button(
            harness.member, harness.member.id, reply["message_id"], data, enqueue=False
        )
    )
    assert harness.fake.callback_answers[-1]["text"].startswith("这个按钮已过期")
