"""Feedback-coach figures stored on each submitted part

Calibration showed, per manager, how many written texts name evidence and how
many personality-type words they use, by analysing every comment on every
view. The figures are now computed once, at submission; this fills them in for
parts submitted before.

Revision ID: b7c41d2e9a10
Revises: eba4b33de352
Create Date: 2026-11-25 16:05:00

"""
import sqlalchemy as sa
from alembic import op

revision = "b7c41d2e9a10"
down_revision = "eba4b33de352"
branch_labels = None
depends_on = None

BATCH = 500


def upgrade():
    with op.batch_alter_table("assessment") as batch:
        batch.add_column(sa.Column("quality_texts", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("quality_evidence", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("quality_personal", sa.Integer(), nullable=True))

    from reviews.coach.analysis import text_quality

    assessment = sa.table(
        "assessment",
        sa.column("id", sa.Integer),
        sa.column("state", sa.String),
        sa.column("comments", sa.JSON),
        sa.column("answers", sa.JSON),
        sa.column("quality_texts", sa.Integer),
        sa.column("quality_evidence", sa.Integer),
        sa.column("quality_personal", sa.Integer),
    )
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(assessment.c.id, assessment.c.comments, assessment.c.answers)
            .where(assessment.c.state == "submitted", assessment.c.id > last)
            .order_by(assessment.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        values = []
        for part_id, comments, answers in rows:
            texts, evidence, personal = text_quality(
                [*(comments or {}).values(), *(answers or {}).values()]
            )
            values.append({"pid": part_id, "t": texts, "e": evidence, "p": personal})
        bind.execute(
            assessment.update()
            .where(assessment.c.id == sa.bindparam("pid"))
            .values(
                quality_texts=sa.bindparam("t"),
                quality_evidence=sa.bindparam("e"),
                quality_personal=sa.bindparam("p"),
            ),
            values,
        )
        last = rows[-1][0]


def downgrade():
    with op.batch_alter_table("assessment") as batch:
        batch.drop_column("quality_personal")
        batch.drop_column("quality_evidence")
        batch.drop_column("quality_texts")
