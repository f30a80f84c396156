"""union-bot: the Telegram service assistant of the Hedong district federation of trade unions."""

import os as _os

# python-telegram-bot's coming behaviour, now: durations such as RetryAfter.retry_after are
# datetime.timedelta (the code reads both), and no deprecation warning on every 429.
_os.environ.setdefault("PTB_TIMEDELTA", "1")
