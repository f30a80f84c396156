"""An in-memory fake of the Telegram Bot API that answers the way Telegram does.

Three layers share one :class:`FakeTelegram` state:

* :class:`FakeTelegram` (:mod:`bot.fake.api`) holds the chats, messages, files and the update
  queue (:mod:`bot.fake.state`). Tests and a terminal chat drive it with
  :meth:`FakeTelegram.user_message`, :meth:`FakeTelegram.press_button` and friends, and inspect
  what the bot did with :meth:`FakeTelegram.messages`, :attr:`FakeTelegram.calls` and
  :attr:`FakeTelegram.errors` (:mod:`bot.fake.simulation`). :meth:`FakeTelegram.handle` answers
  one Bot API call with Telegram's JSON, from the method families in :mod:`bot.fake.api_bot`,
  :mod:`bot.fake.api_messages` and :mod:`bot.fake.api_chats`.
* :class:`FakeRequest` (:mod:`bot.fake.request`) plugs the fake into python-telegram-bot
  in-process::

      fake = FakeTelegram()
      app = (
          ApplicationBuilder()
          .token(fake.token)
          .request(FakeRequest(fake))
          .get_updates_request(FakeRequest(fake))
          .build()
      )

* :class:`FakeTelegramServer` (:mod:`bot.fake.server`) serves the same state over HTTP on
  127.0.0.1, for ``Bot(token, base_url=..., base_file_url=...)`` or another process
  (``python -m bot.fake --port 8081``).

What the fake enforces, as Telegram does (descriptions are Telegram's own wording):

* text 1..4096 characters and captions up to 1024 after entity parsing; HTML, Markdown and
  MarkdownV2 are parsed with ports of TDLib's parsers (:mod:`bot.fake.formatting`), so
  malformed markup fails with ``can't parse entities: ...``; leading and trailing whitespace is
  trimmed, as Telegram does;
* inline keyboards: callback_data 1..64 bytes, valid button URLs, at most 100 buttons;
* edits: "message is not modified", "message to edit not found", "message can't be edited";
  an edit without ``reply_markup`` removes the inline keyboard, as on Telegram;
* replies to missing messages, unknown chats, blocked users (403), answered or unknown callback
  queries, ``getFile`` over 20 MB, uploads over 10 MB (photos) and 50 MB (anything);
* ``getUpdates`` offset/limit/timeout/allowed_updates semantics, long polling, and 409 Conflict
  when a second poller starts while one is waiting;
* group privacy mode: in groups where the bot is not an administrator it only receives
  commands, mentions of it and replies to its messages (see :attr:`FakeTelegram.undelivered`).

Known deviations from Telegram: photos are stored as uploaded (Telegram re-encodes them, so a
real bot must never rely on downloading the same bytes); link previews, topics, inline mode,
payments and most chat administration are not modelled. Bot API methods that exist but are not
implemented answer ``501 Not Implemented`` (python-telegram-bot raises ``NetworkError``).
"""

from bot.fake.api import FakeTelegram
from bot.fake.formatting import parse_html, parse_markdown, parse_markdown_v2, utf16_len
from bot.fake.media import image_size, make_jpeg
from bot.fake.protocol import SimulatedNetworkFailure
from bot.fake.request import FakeRequest
from bot.fake.server import FakeTelegramServer, main
from bot.fake.state import FakeUser
from bot.fake.webhook import WebhookPusher

__all__ = [
    "FakeRequest",
    "FakeTelegram",
    "FakeTelegramServer",
    "FakeUser",
    "SimulatedNetworkFailure",
    "WebhookPusher",
    "image_size",
    "main",
    "make_jpeg",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
    "utf16_len",
]
