"""The gateway's outbox and pending erasures; when each group message was posted.

Revision ID: 0003
Revises: 0002
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "outgoing_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=24), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.String(length=16), nullable=True),
        sa.Column("transcript_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outgoing_messages")),
    )
    with op.batch_alter_table("outgoing_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outgoing_messages_chat_id"), ["chat_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outgoing_messages_request_id"), ["request_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outgoing_messages_next_attempt_at"), ["next_attempt_at"], unique=False)
    op.create_table(
        "pending_erasures",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_deleted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_pending_erasures")),
    )
    with op.batch_alter_table("group_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("group_messages", schema=None) as batch_op:
        batch_op.drop_column("posted_at")
    op.drop_table("pending_erasures")
    with op.batch_alter_table("outgoing_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outgoing_messages_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_outgoing_messages_request_id"))
        batch_op.drop_index(batch_op.f("ix_outgoing_messages_chat_id"))
    op.drop_table("outgoing_messages")
