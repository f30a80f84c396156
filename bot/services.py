"""What the handlers share: settings, catalogue, router, database, outbox."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from telegram.ext import ContextTypes

from bot.outbox import Postman
from bot.settings import Settings
from knowledge.catalogue import Catalogue
from knowledge.router import Router

SERVICES_KEY = "services"


@dataclass(slots=True)
class Services:
    settings: Settings
    catalogue: Catalogue
    router: Router
    engine: Engine
    postman: Postman

    def is_staff_chat(self, chat_id: int) -> bool:
        return chat_id in self.settings.staff_chats()


Context = ContextTypes.DEFAULT_TYPE


def services(context: Context) -> Services:
    found = context.bot_data[SERVICES_KEY]
    assert isinstance(found, Services)
    return found
