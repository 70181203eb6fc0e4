"""Article revisions: every save of an article, for the staff console; when the pack was last exported.

Each existing article gets revision 1 with its stored content, by "pack import",
so that every article has a history to save against. Downgrading drops the
history, drafts included; ``articles`` keeps what the assistant reads.

Revision ID: 0006
Revises: 0005
"""
import datetime as dt
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: Union[str, Sequence[str], None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# As bot.languages.LOCAL_LANGUAGE and bot.knowledge.revisions.PACK_IMPORT when this was written:
# a migration keeps the values it was written with.
SOURCE_LANGUAGE = "ca"
PACK_IMPORT = "pack import"
CONTENT_COLUMNS = ("title", "short_answer", "full_text", "documents", "steps", "links", "keywords", "source_url")

articles = sa.table(
    "articles",
    sa.column("id", sa.Integer),
    sa.column("topic_key", sa.String),
    sa.column("language", sa.String),
    sa.column("municipality_key", sa.String),
    sa.column("status", sa.String),
    sa.column("title", sa.String),
    sa.column("short_answer", sa.Text),
    sa.column("full_text", sa.Text),
    sa.column("documents", sa.JSON),
    sa.column("steps", sa.JSON),
    sa.column("links", sa.JSON),
    sa.column("keywords", sa.JSON),
    sa.column("source_url", sa.String),
    sa.column("last_reviewed", sa.Date),
)
article_offices = sa.table("article_offices", sa.column("article_id", sa.Integer), sa.column("office_key", sa.String), sa.column("position", sa.Integer))


def upgrade() -> None:
    revisions = op.create_table(
        "article_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("minor", sa.Boolean(), nullable=False),
        sa.Column("source_revision", sa.Integer(), nullable=True),
        sa.Column("submitted_by", sa.String(length=254), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.String(length=254), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], name=op.f("fk_article_revisions_article_id_articles"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["author_id"], ["staff_accounts.id"], name=op.f("fk_article_revisions_author_id_staff_accounts"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_revisions")),
        sa.UniqueConstraint("article_id", "number", name=op.f("uq_article_revisions_article_id")),
    )
    with op.batch_alter_table("article_revisions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_article_revisions_one_published",
            ["article_id"],
            unique=True,
            sqlite_where=sa.text("status = 'published'"),
            postgresql_where=sa.text("status = 'published'"),
        )
    with op.batch_alter_table("pack_info", schema=None) as batch_op:
        batch_op.add_column(sa.Column("exported_at", sa.DateTime(timezone=True), nullable=True))
    op.bulk_insert(revisions, _first_revisions())


def _first_revisions() -> list[dict]:
    connection = op.get_bind()
    offices: dict[int, list[str]] = {}
    for row in connection.execute(sa.select(article_offices).order_by(article_offices.c.article_id, article_offices.c.position)):
        offices.setdefault(row.article_id, []).append(row.office_key)
    rows = connection.execute(sa.select(articles).order_by(articles.c.id)).all()
    published_sources = {(row.topic_key, row.municipality_key) for row in rows if row.language == SOURCE_LANGUAGE and row.status == "published"}
    now = dt.datetime.now(dt.timezone.utc)
    revisions = []
    for row in rows:
        content = {name: getattr(row, name) for name in CONTENT_COLUMNS}
        content.update(offices=offices.get(row.id, []), last_reviewed=row.last_reviewed.isoformat())
        published = row.status == "published"
        if row.language == SOURCE_LANGUAGE:
            source_revision = None
        else:
            # The source article's revision 1 is the one it is being given now.
            source_revision = 1 if (row.topic_key, row.municipality_key) in published_sources else None
        revisions.append(
            {
                "article_id": row.id,
                "number": 1,
                "status": row.status,
                "content": content,
                "author_id": None,
                "author": PACK_IMPORT,
                "created_at": now,
                "note": "the article as stored before revisions were kept",
                "minor": False,
                "source_revision": source_revision,
                "published_by": PACK_IMPORT if published else None,
                "published_at": now if published else None,
            }
        )
    return revisions


def downgrade() -> None:
    with op.batch_alter_table("pack_info", schema=None) as batch_op:
        batch_op.drop_column("exported_at")
    with op.batch_alter_table("article_revisions", schema=None) as batch_op:
        batch_op.drop_index("ix_article_revisions_one_published")
    op.drop_table("article_revisions")
