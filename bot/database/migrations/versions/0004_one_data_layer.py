"""One data layer: the gateway's chat profiles apart from the handoff, handoff events as an explicit outbox, raw updates.

- ``newcomers`` becomes the gateway's ``chat_profiles``; handoff requests name
  their chat by id without a foreign key (the action server opens requests
  and never touches the gateway's tables).
- ``handoff_requests.rasa_event_due`` becomes rows of ``handoff_events``.
- ``received_updates.raw`` keeps an update until it is handled, so that any
  gateway replica can handle what a replica that died had received.

Revision ID: 0004
Revises: 0003
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: Union[str, Sequence[str], None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

PROFILE_COLUMNS = "chat_id, language, language_code, first_seen_at, last_seen_at, told_unavailable_at, told_flood_at"


def _profiles_table(name: str) -> None:
    op.create_table(
        name,
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("language_code", sa.String(length=16), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("told_unavailable_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("told_flood_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("chat_id", name=op.f(f"pk_{name}")),
    )


def upgrade() -> None:
    op.create_table(
        "handoff_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["handoff_requests.id"], name=op.f("fk_handoff_events_request_id_handoff_requests"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_events")),
    )
    with op.batch_alter_table("handoff_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handoff_events_request_id"), ["request_id"], unique=False)
    op.execute(
        "INSERT INTO handoff_events (request_id, kind, created_at, attempts) "
        "SELECT id, CASE rasa_event_due WHEN 'pause' THEN 'opened' ELSE 'closed' END, created_at, 0 "
        "FROM handoff_requests WHERE rasa_event_due IS NOT NULL ORDER BY id"
    )
    with op.batch_alter_table("handoff_requests", schema=None) as batch_op:
        batch_op.drop_constraint("fk_handoff_requests_chat_id_newcomers", type_="foreignkey")
        batch_op.drop_column("rasa_event_due")

    _profiles_table("chat_profiles")
    op.execute(f"INSERT INTO chat_profiles ({PROFILE_COLUMNS}) SELECT {PROFILE_COLUMNS} FROM newcomers")
    op.drop_table("newcomers")

    with op.batch_alter_table("received_updates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("raw", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("received_updates", schema=None) as batch_op:
        batch_op.drop_column("raw")

    _profiles_table("newcomers")
    op.execute(f"INSERT INTO newcomers ({PROFILE_COLUMNS}) SELECT {PROFILE_COLUMNS} FROM chat_profiles")
    # A request whose chat has no profile any more would break the restored foreign key.
    op.execute(
        f"INSERT INTO newcomers ({PROFILE_COLUMNS}) SELECT chat_id, NULL, NULL, MIN(created_at), MAX(created_at), NULL, NULL "
        "FROM handoff_requests WHERE chat_id NOT IN (SELECT chat_id FROM newcomers) GROUP BY chat_id"
    )
    op.drop_table("chat_profiles")

    with op.batch_alter_table("handoff_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rasa_event_due", sa.String(length=16), nullable=True))
        batch_op.create_foreign_key("fk_handoff_requests_chat_id_newcomers", "newcomers", ["chat_id"], ["chat_id"], ondelete="CASCADE")
    op.execute(
        "UPDATE handoff_requests SET rasa_event_due = (SELECT CASE kind WHEN 'opened' THEN 'pause' ELSE 'resume' END "
        "FROM handoff_events WHERE handoff_events.request_id = handoff_requests.id ORDER BY handoff_events.id DESC LIMIT 1)"
    )
    with op.batch_alter_table("handoff_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handoff_events_request_id"))
    op.drop_table("handoff_events")
