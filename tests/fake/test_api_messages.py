"""Message methods answer the way the Bot API does: sending, editing, limits, files, callbacks."""

from __future__ import annotations

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden

from bot.fake import (
    FakeTelegram,
    make_jpeg,
)
from tests.fake.conftest import MEMBER, STAFF_CHAT, keyboard


async def test_send_and_edit_html(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_message(MEMBER, text="/start")
    html = "<b>会员服务卡</b>办理 &amp; 补办"
    sent = await bot.send_message(MEMBER.id, html, parse_mode="HTML", reply_markup=keyboard("a"))
    assert sent.text == "会员服务卡办理 & 补办"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 5)]
    stored = fake.last_bot_message(MEMBER.id)
    assert stored is not None and stored["_html"] == html
    assert stored["reply_markup"] == {"inline_keyboard": [[{"text": "a", "callback_data": "a"}]]}

    async def edit(text: str, markup: InlineKeyboardMarkup | None = None) -> object:
        return await bot.edit_message_text(
            text, MEMBER.id, sent.message_id, parse_mode="HTML", reply_markup=markup
        )

    edited = await edit("<i>已更新</i>", keyboard("a"))
    assert getattr(edited, "text", None) == "已更新"
    assert fake.messages(MEMBER.id)[-1]["text"] == "已更新"

    with pytest.raises(BadRequest) as caught:
        await edit("<i>已更新</i>", keyboard("a"))
    assert caught.value.message.lower().startswith("message is not modified: specified new")

    # Telegram removes the keyboard when an edit carries no reply_markup.
    await edit("<i>已更新</i>")
    assert "reply_markup" not in fake.messages(MEMBER.id)[-1]

    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", MEMBER.id, 999)
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await bot.edit_message_text("x", MEMBER.id, 1)  # the member's own /start


async def test_text_limits(fake: FakeTelegram, bot: Bot) -> None:
    fake.register_chat(MEMBER.id, first_name="张")
    await bot.send_message(MEMBER.id, "工" * 4096)
    with pytest.raises(BadRequest, match=r"(?i)^message is too long$"):
        await bot.send_message(MEMBER.id, "工" * 4097)
    # The limit counts text after entity parsing, and Telegram trims surrounding whitespace.
    await bot.send_message(MEMBER.id, "<b>" + "工" * 4096 + "</b>\n\n", parse_mode="HTML")
    assert fake.last_bot_message(MEMBER.id)["text"] == "工" * 4096  # type: ignore[index]
    with pytest.raises(BadRequest, match=r"(?i)^message text is empty$"):
        await bot.send_message(MEMBER.id, "<b> </b>", parse_mode="HTML")


async def test_callback_data_is_at_most_64_bytes(fake: FakeTelegram, bot: Bot) -> None:
    fake.register_chat(MEMBER.id, first_name="张")
    await bot.send_message(MEMBER.id, "ok", reply_markup=keyboard("x" * 64))
    await bot.send_message(MEMBER.id, "ok", reply_markup=keyboard("申" * 21))  # 63 bytes
    for data in ("x" * 65, "申" * 22):
        with pytest.raises(BadRequest, match=r"(?i)^button_data_invalid$"):
            await bot.send_message(MEMBER.id, "too long", reply_markup=keyboard(data))
    bad_url = InlineKeyboardMarkup([[InlineKeyboardButton("site", url="not a url")]])
    with pytest.raises(BadRequest, match=r"(?i)^button_url_invalid$"):
        await bot.send_message(MEMBER.id, "x", reply_markup=bad_url)


async def test_photo_upload_then_download(fake: FakeTelegram, bot: Bot) -> None:
    fake.register_chat(MEMBER.id, first_name="张")
    image = make_jpeg(640, 480)
    sent = await bot.send_photo(MEMBER.id, photo=image, caption="<b>证件</b>", parse_mode="HTML")
    assert sent.caption == "证件" and sent.photo[-1].width == 640
    file = await bot.get_file(sent.photo[-1].file_id)
    assert bytes(await file.download_as_bytearray()) == image
    again = await bot.send_photo(MEMBER.id, photo=sent.photo[-1].file_id)  # by file_id
    assert again.photo[-1].file_id == sent.photo[-1].file_id
    with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
        await bot.send_photo(MEMBER.id, photo=b"not an image")


async def test_user_photo_can_be_downloaded(fake: FakeTelegram, bot: Bot) -> None:
    update = fake.user_message(MEMBER, photo=True, caption="工伤认定材料")
    sizes = update["message"]["photo"]
    assert len(sizes) == 2 and sizes[0]["width"] < sizes[1]["width"]
    file = await bot.get_file(sizes[-1]["file_id"])
    data = bytes(await file.download_as_bytearray())
    assert data.startswith(b"\xff\xd8\xff") and len(data) == sizes[-1]["file_size"]


async def test_get_file_refuses_files_over_20_mb(fake: FakeTelegram, bot: Bot) -> None:
    update = fake.user_message(
        MEMBER, document=("录像.mp4", b"\x00" * 16, "video/mp4"), file_size=21 * 1024 * 1024
    )
    with pytest.raises(BadRequest, match=r"(?i)^file is too big$"):
        await bot.get_file(update["message"]["document"]["file_id"])


async def test_replies_and_callback_queries(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_message(MEMBER, text="hi")
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(MEMBER.id, "x", reply_to_message_id=42)
    menu = await bot.send_message(MEMBER.id, "选择", reply_markup=keyboard("duty:1"))
    press = fake.press_button(MEMBER, MEMBER.id, menu.message_id, "duty:1")
    query_id = press["callback_query"]["id"]
    assert press["callback_query"]["message"]["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "duty:1",
        "callback_data": "duty:1",
    }
    assert await bot.answer_callback_query(query_id, text="好的")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id)
    assert fake.callback_answers == [{"callback_query_id": query_id, "text": "好的"}]


async def test_a_user_who_never_started_the_bot_cannot_be_written_to_first(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.register_chat(STAFF_CHAT, type="supergroup", title="权益保障部")
    fake.user_message(MEMBER, STAFF_CHAT, "/cases")  # Telegram knows them from the group
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_message(MEMBER.id, "材料")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(424242, "nobody")  # nobody Telegram knows
    fake.user_message(MEMBER, text="/start")  # they open the private chat
    assert (await bot.send_message(MEMBER.id, "材料")).text == "材料"
