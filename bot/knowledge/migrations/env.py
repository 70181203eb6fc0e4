"""Alembic environment: runs the migrations against the configured URL."""
from alembic import context

from bot.knowledge.database import engine_for
from bot.handoff import models as _handoff_models  # noqa: F401  (registers the handoff tables)
from bot.telegram import models as _telegram_models  # noqa: F401  (registers the gateway's tables)
from bot.knowledge.models import metadata

url = context.config.get_main_option("sqlalchemy.url")

if context.is_offline_mode():
    context.configure(url=url, target_metadata=metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    with engine_for(url).connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
