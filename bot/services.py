"""What the handlers share: settings, catalogue, router, database, outbox."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from telegram.ext import ContextTypes

from bot.applications import Applications
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
    applications: Applications
    files_dir: Path

    def apply_links(self) -> dict[str, list[tuple[str, str]]]:
        """For each duty, the forms a member can file online: (button label, form id)."""
        links: dict[str, list[tuple[str, str]]] = {}
        for form in self.applications.forms.values():
            links.setdefault(form.duty, []).append((form.button, form.id))
        return links

    def is_staff_chat(self, chat_id: int) -> bool:
        return chat_id in self.settings.staff_chats()


Context = ContextTypes.DEFAULT_TYPE


def services(context: Context) -> Services:
    found = context.bot_data[SERVICES_KEY]
    assert isinstance(found, Services)
    return found
