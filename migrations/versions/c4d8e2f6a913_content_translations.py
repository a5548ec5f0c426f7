"""Translations of the framework's, the catalogue's and the templates' texts

`content_translation`: HR's translation of one text into one language, keyed by
the text (its sha256) as a catalog is (reviews/framework/wording.py). Empty at
first: every reader sees the texts as written until HR translates them.

Revision ID: c4d8e2f6a913
Revises: a7c2e5d91b40
Create Date: 2026-12-06 04:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c4d8e2f6a913"
down_revision = "a7c2e5d91b40"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "content_translation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_hash", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["person.id"],
            name=op.f("fk_content_translation_updated_by_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_translation")),
        sa.UniqueConstraint(
            "language", "source_hash", name=op.f("uq_content_translation_language_source_hash")
        ),
    )
    op.create_index(
        op.f("ix_content_translation_updated_by_id"),
        "content_translation",
        ["updated_by_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_content_translation_updated_by_id"), table_name="content_translation")
    op.drop_table("content_translation")
