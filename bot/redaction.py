"""No log line carries personal data or a secret, whatever library writes it, at any level.

Installed once per process (`install`), as the logging module's record factory, so that every
record is cleaned when it is made: before any handler, filter or formatter sees it, including
handlers added later (a test's, a journald one).

- ID-card numbers, mobile and landline phones (also typed with spaces or dashes, 139 0000 1234)
  and the bot's token become placeholders in every message and traceback.
- python-telegram-bot, httpx and the webhook server log whole updates and API parameters at
  DEBUG (a member's health story, their answers): from those libraries, any argument that is
  not a plain number or word (a dict, a Telegram object, a JSON text) is replaced by a
  placeholder. Our own code never logs what members wrote.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

# ID numbers (18 digits, the last may be X; the old 15), bank cards and any longer run of
# digits, also grouped with spaces or dashes (1201 0219 8506 1512 3X, 6222-0202-0011-2233).
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d(?:[ \-]?\d){13,}(?:[ \-]?[Xx])?(?![0-9A-Za-z])")
# Mobile numbers, with or without +86 and with spaces or dashes between the groups.
MOBILE = re.compile(r"(?<![\d])(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)")
# Landlines with their area code: 022-24312556, 022 2431 2556, (022)24312556.
LANDLINE = re.compile(r"(?<!\d)\(?0\d{2,3}\)?[\s-]?\d{3,4}[\s-]?\d{4}(?!\d)")
# A bot token, wherever it appears (httpx puts it in every URL).
TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")

# Loggers whose arguments may be whole updates or API parameters.
PAYLOAD_LOGGERS = ("telegram", "httpx", "httpcore", "apscheduler", "tornado")
PLAIN = (int, float, bool, type(None))

_lock = threading.Lock()
_secrets: set[str] = set()
_installed: Callable[..., logging.LogRecord] | None = None


def scrub(text: str) -> str:
    """The text with secrets, ID numbers and phones replaced."""
    for secret in _secrets:
        text = text.replace(secret, "<secret>")
    text = TOKEN.sub("<token>", text)
    text = ID_NUMBER.sub("<id>", text)
    text = MOBILE.sub("<phone>", text)
    return LANDLINE.sub("<phone>", text)


def _payload_free(value: Any) -> Any:
    if isinstance(value, PLAIN):
        return value
    if isinstance(value, str) and not value.lstrip().startswith(("{", "[")) and len(value) < 200:
        return value
    return f"<{type(value).__name__} not logged>"


def _clean(record: logging.LogRecord) -> logging.LogRecord:
    args = record.args
    if args and record.name.startswith(PAYLOAD_LOGGERS):
        if isinstance(args, dict):
            args = {key: _payload_free(value) for key, value in args.items()}
        else:
            args = tuple(_payload_free(value) for value in args)
        record.args = args
    try:
        message = record.getMessage()
    except Exception:  # a malformed call: log what there is, cleaned
        message = f"{record.msg} <arguments not logged>"
    record.msg, record.args = scrub(message), None
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
        record.exc_info = None  # a formatter of its own would format the raw one again
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)
    return record


def install(secrets: Iterable[str] = ()) -> None:
    """Clean every log record from now on; `secrets` (the token, the webhook secret) are
    replaced wherever they appear."""
    global _installed
    with _lock:
        _secrets.update(secret for secret in secrets if secret)
        if _installed is not None:
            return
        make = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return _clean(make(*args, **kwargs))

        logging.setLogRecordFactory(factory)
        _installed = factory
