"""The schema: migrations run on SQLite and PostgreSQL and agree with the models."""
from __future__ import annotations

import multiprocessing

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from bot.database.base import metadata
from bot.database.schema import alembic_config, load_models, upgrade_schema
from bot.database.sessions import engine_for

load_models()  # every package's tables, as the migrations know them


def test_migrations_create_the_schema_the_models_describe(database_url):
    upgrade_schema(database_url)
    upgrade_schema(database_url)  # running it again is harmless
    engine = engine_for(database_url)
    expected = {"topics", "articles", "municipalities", "municipality_aliases", "offices", "alembic_version", "handoff_requests",
                "handoff_events", "mediators", "received_updates", "chat_profiles", "outgoing_messages", "group_messages"}
    assert expected <= set(inspect(engine).get_table_names())
    assert "newcomers" not in inspect(engine).get_table_names()
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_the_data_layer_migration_keeps_profiles_and_due_rasa_events(database_url):
    """0004 moves the gateway's chat profiles to their own table and due pause/resume into handoff events, and back."""
    config = alembic_config(database_url)
    command.upgrade(config, "0003")
    engine = engine_for(database_url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO newcomers (chat_id, language, first_seen_at, last_seen_at) VALUES (41, 'ur', '2026-12-01', '2026-12-02')"))
        for request_id, due in ((1, "'pause'"), (2, "'resume'"), (3, "NULL")):
            connection.execute(text(
                "INSERT INTO handoff_requests (id, chat_id, sender_id, language, reason, status, created_at, announcements, rasa_event_due) "
                f"VALUES ({request_id}, 41, '41', 'ur', 'asked', 'waiting', '2026-12-0{request_id}', 0, {due})"
            ))
        connection.execute(text("INSERT INTO transcript_messages (request_id, author, kind, text, relayed, created_at) VALUES (1, 'newcomer', 'text', 'hola', false, '2026-12-01')"))
    command.upgrade(config, "head")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT chat_id, language FROM chat_profiles")).all() == [(41, "ur")]
        assert connection.execute(text("SELECT request_id, kind FROM handoff_events ORDER BY id")).all() == [(1, "opened"), (2, "closed")]
        assert "rasa_event_due" not in {column["name"] for column in inspect(connection).get_columns("handoff_requests")}
        # Rebuilding handoff_requests (SQLite) must not cascade to the rows that refer to it.
        assert connection.execute(text("SELECT request_id, text FROM transcript_messages")).all() == [(1, "hola")]
    command.downgrade(config, "0003")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT chat_id, language FROM newcomers")).all() == [(41, "ur")]
        assert connection.execute(text("SELECT id, rasa_event_due FROM handoff_requests ORDER BY id")).all() == [(1, "pause"), (2, "resume"), (3, None)]
    engine.dispose()


def test_replicas_starting_together_migrate_one_after_the_other(postgres_url):
    """Several processes upgrading one PostgreSQL database at once (gateway replicas at start): all succeed."""
    processes = [multiprocessing.get_context("spawn").Process(target=upgrade_schema, args=(postgres_url,)) for _ in range(3)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
    assert [process.exitcode for process in processes] == [0, 0, 0]
    engine = engine_for(postgres_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
