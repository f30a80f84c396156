"""The former name of :mod:`bot.fake`: ``python -m bot.fake_telegram`` still serves it."""

from bot.fake import *  # noqa: F403
from bot.fake import __all__ as __all__
from bot.fake.server import main

if __name__ == "__main__":
    raise SystemExit(main())
