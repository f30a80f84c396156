"""The fake Telegram answers python-telegram-bot the way the real Bot API does."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import time
import urllib.request
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TimedOut
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

from bot.fake_telegram import (
    FakeRequest,
    FakeTelegram,
    FakeTelegramServer,
    FakeUser,
    make_jpeg,
    parse_html,
    parse_markdown_v2,
)

MEMBER = FakeUser(1001, "张", "三", username="zhangsan")
STAFF_CHAT = -1001234567890


@pytest.fixture
def fake() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(
        fake.token, request=FakeRequest(fake), get_updates_request=FakeRequest(fake)
    ) as bot:
        yield bot


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d[:10], callback_data=d) for d in data]])


def retry_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def test_get_me(bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "hedong_union_bot", True)
    assert me.first_name == "河东区总工会服务助手"
    assert me.can_read_all_group_messages is False  # privacy mode is on by default


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


async def test_malformed_markup_is_refused(fake: FakeTelegram, bot: Bot) -> None:
    fake.register_chat(MEMBER.id, first_name="张")
    cases = {
        "材料<清单>": 'unsupported start tag "清单" at byte offset 6',
        "<b>加粗": 'can\'t find end tag corresponding to start tag "b"',
        "<b>x</i>": 'unmatched end tag at byte offset 4, expected "</b>", found "</i>"',
        "1 < 2": 'unsupported start tag "" at byte offset 2',
    }
    for text, detail in cases.items():
        with pytest.raises(BadRequest) as caught:
            await bot.send_message(MEMBER.id, text, parse_mode="HTML")
        assert caught.value.message.lower() == f"can't parse entities: {detail}".lower()
    with pytest.raises(BadRequest, match=r"(?i)character '\.' is reserved"):
        await bot.send_message(MEMBER.id, "办理流程如下.", parse_mode="MarkdownV2")
    assert fake.bot_messages(MEMBER.id) == []


def test_parsers_follow_tdlib() -> None:
    assert parse_html('<a href="t.me/x">链接</a> &lt;b&gt; 😀<u>u</u>') == (
        "链接 <b> 😀u",
        [
            {"offset": 0, "length": 2, "type": "text_link", "url": "http://t.me/x"},
            {"offset": 9, "length": 1, "type": "underline"},  # the emoji is 2 UTF-16 units
        ],
    )
    text, entities = parse_markdown_v2(r"*粗* \. `code` [站](https://example.com)")
    assert text == "粗 . code 站"
    assert [e["type"] for e in entities] == ["bold", "code", "text_link"]


async def test_blocked_user_gives_403(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_message(MEMBER, text="你好")
    fake.block(MEMBER.id)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(MEMBER.id, "hi")
    fake.unblock(MEMBER.id)
    await bot.send_message(MEMBER.id, "hi")
    with pytest.raises(BadRequest, match=r"(?i)^chat not found$"):
        await bot.send_message(555, "nobody")


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_inject_429_raises_retry_after(fake: FakeTelegram, bot: Bot) -> None:
    fake.register_chat(MEMBER.id, first_name="张")
    fake.inject_429(count=1, retry_after=7, methods={"sendMessage"})
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(MEMBER.id, "hi")
    assert retry_seconds(caught.value) == 7
    await bot.send_message(MEMBER.id, "hi")  # only one call was limited
    assert fake.errors == [("sendMessage", 429, "Too Many Requests: retry after 7")]


async def test_timeout_after_processing_sends_twice_on_retry(fake: FakeTelegram, bot: Bot) -> None:
    fake.register_chat(MEMBER.id, first_name="张")
    fake.fail_next(1, "sendMessage", mode="timeout")
    with pytest.raises(TimedOut):
        await bot.send_message(MEMBER.id, "hi")
    await bot.send_message(MEMBER.id, "hi")
    assert [m["text"] for m in fake.bot_messages(MEMBER.id)] == ["hi", "hi"]


async def test_get_updates_and_offset(fake: FakeTelegram, bot: Bot) -> None:
    first = fake.user_message(MEMBER, text="/start")
    fake.user_message(MEMBER, text="会员服务卡怎么办理", reply_to_message_id=1)
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [first["update_id"], first["update_id"] + 1]
    start = updates[0].message
    assert start is not None and start.text == "/start"
    assert start.entities[0].type == "bot_command" and start.entities[0].offset == 0
    assert updates[1].message is not None and updates[1].message.reply_to_message is not None

    again = await bot.get_updates()  # not confirmed yet
    assert len(again) == 2
    assert await bot.get_updates(offset=updates[-1].update_id + 1) == ()
    assert fake.pending_updates() == []


async def test_get_updates_long_poll_times_out_empty(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= time.monotonic() - started < 2


async def test_long_poll_wakes_on_new_update(fake: FakeTelegram, bot: Bot) -> None:
    async def later() -> None:
        await asyncio.sleep(0.05)
        fake.user_message(MEMBER, text="在吗")

    task = asyncio.create_task(later())
    started = time.monotonic()
    updates = await bot.get_updates(timeout=5)
    await task
    assert [u.message.text for u in updates if u.message] == ["在吗"]
    assert time.monotonic() - started < 1


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


async def test_group_privacy_mode(fake: FakeTelegram, bot: Bot) -> None:
    fake.register_chat(STAFF_CHAT, type="supergroup", title="工会工作人员")
    note = await bot.send_message(STAFF_CHAT, "新案件 #12")
    fake.user_message(MEMBER, STAFF_CHAT, "大家好")  # not for the bot
    fake.user_message(MEMBER, STAFF_CHAT, "已处理", reply_to_message_id=note.message_id)
    fake.user_message(MEMBER, STAFF_CHAT, "/cases@hedong_union_bot")
    fake.user_message(MEMBER, STAFF_CHAT, "/cases@other_bot")
    texts = [u.message.text for u in await bot.get_updates() if u.message]
    assert texts == ["已处理", "/cases@hedong_union_bot"]
    assert [u["message"]["text"] for u in fake.undelivered] == ["大家好", "/cases@other_bot"]
    assert len(fake.messages(STAFF_CHAT)) == 5  # the chat itself has everything


async def test_wrong_token_is_unauthorized(fake: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        await Bot("999:WRONG", request=FakeRequest(fake)).get_me()


async def test_application_round_trip(fake: FakeTelegram) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_html(
            "<b>欢迎</b>使用", reply_markup=keyboard("go"), do_quote=True
        )

    app = (
        ApplicationBuilder()
        .token(fake.token)
        .request(FakeRequest(fake))
        .get_updates_request(FakeRequest(fake))
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    fake.user_message(MEMBER, text="/start")
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        for _ in range(200):
            if fake.bot_messages(MEMBER.id):
                break
            await asyncio.sleep(0.01)
        await app.updater.stop()
        await app.stop()
    reply = fake.last_bot_message(MEMBER.id)
    assert reply is not None and reply["text"] == "欢迎使用"
    assert reply["reply_to_message"]["text"] == "/start"
    assert fake.pending_updates() == []  # the updater confirmed what it handled
    assert fake.errors == []


async def test_over_http_with_real_httpx() -> None:
    with FakeTelegramServer() as server:
        fake = server.fake
        async with Bot(
            fake.token, base_url=server.base_url, base_file_url=server.base_file_url
        ) as bot:
            assert (await bot.get_me()).username == "hedong_union_bot"

            request = urllib.request.Request(
                server.root_url + "/_fake/user_message",
                data=json.dumps({"user": MEMBER.to_dict(), "text": "申请困难补助"}).encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=5) as response:
                update = json.loads(response.read())["result"]
            updates = await bot.get_updates(timeout=1)
            assert [u.update_id for u in updates] == [update["update_id"]]

            sent = await bot.send_message(MEMBER.id, "<b>请上传</b>材料", parse_mode="HTML")
            assert sent.text == "请上传材料"
            content = b"%PDF-1.4\r\n--boundary-like\r\n\x00\xff"
            doc = await bot.send_document(
                MEMBER.id, document=content, filename="申请表.pdf", caption="表格"
            )
            assert doc.document is not None and doc.document.file_name == "申请表.pdf"
            file = await bot.get_file(doc.document.file_id)
            assert bytes(await file.download_as_bytearray()) == content

            assert await bot.get_updates(offset=updates[-1].update_id + 1) == ()
            with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
                await bot.edit_message_text("x", MEMBER.id, 99)
        assert [m["text"] for m in fake.bot_messages(MEMBER.id) if "text" in m] == ["请上传材料"]
