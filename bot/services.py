"""What the handlers share: settings, catalogue, router, database, outbox."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from telegram.ext import ContextTypes

from bot.applications import Applications
from bot.casework import Casework
from bot.delivery import Delivery
from bot.outbox import Postman
from bot.retention import Periods
from bot.settings import Settings
from knowledge.catalogue import Catalogue
from knowledge.faq import Faq
from knowledge.forms import Form
from knowledge.router import Router
from storage.db import DatabaseThreads

SERVICES_KEY = "services"


@dataclass(slots=True)
class Services:
    settings: Settings
    catalogue: Catalogue
    router: Router
    engine: Engine
    db: DatabaseThreads  # database work off the event loop
    postman: Postman
    applications: Applications
    casework: Casework
    faq: Faq
    delivery: Delivery

    @property
    def forms(self) -> list[Form]:
        """The online forms, for answers that must agree with them."""
        return list(self.applications.forms.values())

    @property
    def periods(self) -> Periods:
        """How long personal data is kept (from the settings; the notices say the same)."""
        return self.applications.periods

    @property
    def files_dir(self) -> Path:
        """Where uploaded files are copied (from the settings)."""
        return self.settings.uploads_dir


Context = ContextTypes.DEFAULT_TYPE


def services(context: Context) -> Services:
    found = context.bot_data[SERVICES_KEY]
    assert isinstance(found, Services)
    return found
