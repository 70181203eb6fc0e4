"""The schema: migrations run on SQLite and PostgreSQL and agree with the models."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bot.knowledge.database import engine_for, upgrade_schema
from bot.handoff import models as handoff_models  # noqa: F401  (the handoff tables share the metadata)
from bot.knowledge.models import metadata


def test_migrations_create_the_schema_the_models_describe(database_url):
    upgrade_schema(database_url)
    upgrade_schema(database_url)  # running it again is harmless
    engine = engine_for(database_url)
    assert {"topics", "articles", "municipalities", "municipality_aliases", "offices", "alembic_version", "handoff_requests", "mediators", "received_updates"} <= set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []
