"""The coach's stored figures recomputed with the rebuilt coach

The feedback coach now reads words rather than strings (stems, pronouns,
person-versus-behaviour descriptors, and a concrete-example test that ignores
incidental words such as "may", "when" or a bare digit). Calibration sums the
figures stored on each submitted part (texts, texts giving a concrete example,
personality-type findings); this stores them again for every submitted part so
that old and new parts are counted by the same test. Derived figures only:
no answer or comment is touched.

Revision ID: c4e7a1b9d203
Revises: f1c3a9d72e58
Create Date: 2026-12-04 18:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = "c4e7a1b9d203"
down_revision = "f1c3a9d72e58"
branch_labels = None
depends_on = None

BATCH = 500


def upgrade():
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
    # The figures are derived; the previous coach is gone, so they stay as computed.
    pass
