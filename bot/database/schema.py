"""The schema's migrations (Alembic, ``bot/database/migrations``), for every package's tables."""
from __future__ import annotations

import importlib
from pathlib import Path

from alembic import command
from alembic.config import Config

from bot import settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Every package that declares tables; importing them registers the tables on the one metadata.
MODEL_MODULES = ("bot.knowledge.models", "bot.handoff.models", "bot.telegram.models", "bot.console.models")


def load_models() -> None:
    for module in MODEL_MODULES:
        importlib.import_module(module)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_schema(url: str | None = None) -> None:
    """Bring the database to the newest schema; safe to run at every start."""
    command.upgrade(alembic_config(url or settings.database_url()), "head")
