"""``python -m bot.fake``: serve a fake Telegram over HTTP until interrupted."""

from bot.fake.server import main

raise SystemExit(main())
