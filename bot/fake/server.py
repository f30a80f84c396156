"""The fake served over HTTP on 127.0.0.1, with a control API, and ``python -m bot.fake``."""

from __future__ import annotations

import argparse
import json
import select
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote, urlsplit

from bot.fake.api import FakeTelegram
from bot.fake.media import parse_multipart
from bot.fake.protocol import JSON, FileTuple, SimulatedNetworkFailure
from bot.fake.request import API_PATH, FILE_PATH


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fake: FakeTelegram) -> None:
        super().__init__(address, _Handler)
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client went away (a cancelled long poll)
            self.close_connection = True

    def _send_json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))

    def _route(self) -> None:
        split = urlsplit(self.path)
        path = unquote(split.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fake = self.server.fake
        if path.startswith("/_fake/"):
            self._control(path[len("/_fake/") :], split.query, body)
            return
        file_match = FILE_PATH.fullmatch(path)
        if file_match:
            refusal = fake.check_token(file_match.group(1))
            if refusal is not None:
                self._send_json(*refusal)
                return
            content = fake.download(file_match.group(2))
            if content is None:
                self._send_json(
                    404,
                    {"ok": False, "error_code": 404, "description": "Not Found: file not found"},
                )
                return
            self._send(200, content, "application/octet-stream")
            return
        api_match = API_PATH.fullmatch(path)
        if not api_match:
            self._send_json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        refusal = fake.check_token(api_match.group(1))
        if refusal is not None:
            self._send_json(*refusal)
            return
        params: dict[str, Any] = dict(parse_qsl(split.query, keep_blank_values=True))
        files: dict[str, FileTuple] = {}
        content_type = self.headers.get("Content-Type", "")
        try:
            if content_type.startswith("application/json") and body:
                data = json.loads(body)
                if not isinstance(data, dict):
                    raise ValueError("a JSON object expected")
                params.update(data)
            elif content_type.startswith("application/x-www-form-urlencoded"):
                params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            elif content_type.startswith("multipart/form-data"):
                fields, files = parse_multipart(body, content_type)
                params.update(fields)
        except ValueError:
            self._send_json(
                400,
                {"ok": False, "error_code": 400, "description": "Bad Request: invalid request"},
            )
            return
        try:
            status, payload = fake.handle(
                api_match.group(2), params, files, abandoned=self._client_gone
            )
        except SimulatedNetworkFailure:
            self.close_connection = True  # drop the connection without an answer
            return
        except Exception as exc:  # a bug in the fake: make it visible to the bot
            description = f"Internal Server Error: fake Telegram failed: {exc!r}"
            self._send_json(500, {"ok": False, "error_code": 500, "description": description})
            return
        if self._client_gone():
            self.close_connection = True
            return
        self._send_json(status, payload)

    def _client_gone(self) -> bool:
        """Whether the client closed the connection (e.g. a cancelled long poll)."""
        readable, _, _ = select.select([self.connection], [], [], 0)
        if not readable:
            return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _control(self, action: str, query: str, body: bytes) -> None:
        """The control API: drive the fake from another process."""
        fake = self.server.fake
        try:
            data: JSON = json.loads(body) if body else {}
            args = {k: v[-1] for k, v in parse_qs(query).items()}
            if action == "messages":
                result: Any = fake.messages(int(args.get("chat_id") or data["chat_id"]))
            elif action == "calls":
                result = [[name, params] for name, params in list(fake.calls)]
            elif action == "updates":
                result = fake.pending_updates()
            elif action == "register_chat":
                chat_id = int(data.pop("chat_id"))
                result = fake.register_chat(chat_id, **data)
            elif action == "user_message":
                document = data.pop("document", None)
                if document is not None:
                    data["document"] = (
                        document["file_name"],
                        bytes.fromhex(document.get("content_hex", "")),
                        document.get("mime_type", "application/octet-stream"),
                    )
                location = data.pop("location", None)
                if location is not None:
                    data["location"] = (float(location[0]), float(location[1]))
                result = fake.user_message(data.pop("user"), **data)
            elif action == "user_edits":
                result = fake.user_edits(
                    data["user"], data["chat_id"], data["message_id"], data["text"]
                )
            elif action == "press_button":
                result = fake.press_button(
                    data["user"], data["chat_id"], data["message_id"], data["callback_data"]
                )
            elif action == "block":
                result = fake.block(int(data["chat_id"]))
            elif action == "unblock":
                result = fake.unblock(int(data["chat_id"]))
            else:
                self._send_json(404, {"ok": False, "description": f"unknown action {action}"})
                return
        except (KeyError, TypeError, ValueError) as exc:
            self._send_json(400, {"ok": False, "description": f"{type(exc).__name__}: {exc}"})
            return
        self._send_json(200, {"ok": True, "result": result})


class FakeTelegramServer:
    """Serves a :class:`FakeTelegram` over HTTP on 127.0.0.1 from a daemon thread.

    Bot API: ``{base_url}<token>/<method>``; files: ``{base_file_url}<token>/<file_path>``;
    control API under ``/_fake/``: ``POST user_message`` ({user, chat_id, text,
    reply_to_message_id, ...}), ``POST user_edits``, ``POST press_button``,
    ``POST register_chat``, ``POST block``/``unblock``, ``GET messages?chat_id=``,
    ``GET calls``, ``GET updates``.
    """

    def __init__(
        self, fake: FakeTelegram | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.fake = fake or FakeTelegram()
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Starts serving; returns the base URL for PTB's ``base_url``."""
        if self._server is None:
            self._server = _Server(self._address, self.fake)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="fake-telegram",
                daemon=True,
            )
            self._thread.start()
        return self.base_url

    @property
    def root_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the server is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        return self.root_url + "/bot"

    @property
    def base_file_url(self) -> str:
        return self.root_url + "/file/bot"

    def stop(self) -> None:
        if self._server is None:
            return
        self.fake.interrupt_polls()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeTelegramServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """``python -m bot.fake``: serve a fake Telegram until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.fake", description="Serve a fake Telegram Bot API."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:TEST")
    parser.add_argument("--bot-username", default="hedong_union_bot")
    parser.add_argument("--bot-name", default="河东区总工会服务助手")
    parser.add_argument(
        "--no-privacy", action="store_true", help="let the bot see every group message"
    )
    args = parser.parse_args(argv)
    fake = FakeTelegram(
        args.token, args.bot_username, args.bot_name, privacy_mode=not args.no_privacy
    )
    server = FakeTelegramServer(fake, host=args.host, port=args.port)
    print(server.start(), flush=True)
    print(server.base_file_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
