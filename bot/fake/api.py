""":class:`FakeTelegram`: the fake's state with every Bot API method family and the simulation."""

from __future__ import annotations

from bot.fake.api_bot import BotMethods
from bot.fake.api_chats import ChatMethods
from bot.fake.api_messages import MessageMethods
from bot.fake.simulation import Simulation


class FakeTelegram(Simulation, BotMethods, MessageMethods, ChatMethods):
    """A fake Bot API server in memory: chats, messages, files, updates and failures.

    Tests and the terminal chat drive it with :meth:`user_message`, :meth:`press_button` and
    friends, and read what the bot did with :meth:`messages`, :attr:`calls` and
    :attr:`errors`. :meth:`handle` answers one Bot API call with Telegram's JSON.
    Thread-safe: it is used from asyncio (in-process) and from HTTP server threads at once.
    """
