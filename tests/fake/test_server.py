"""The fake served over HTTP answers a real httpx client, and runs as `python -m bot.fake`."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import pytest
from telegram import Bot
from telegram.error import BadRequest

from bot.fake import (
    FakeTelegramServer,
)
from tests.fake.conftest import MEMBER


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


@pytest.mark.parametrize("module", ["bot.fake", "bot.fake_telegram"])
def test_python_m_serves_the_fake(module: str) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", module, "--port", "0", "--token", "42:ABC"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/bot")
        with urllib.request.urlopen(base_url + "42:ABC/getMe", timeout=5) as response:
            me = json.loads(response.read())
        assert me["ok"] and me["result"]["username"] == "hedong_union_bot"
    finally:
        process.terminate()
        process.wait(timeout=5)
