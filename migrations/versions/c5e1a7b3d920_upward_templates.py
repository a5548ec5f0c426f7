"""Upward feedback follows a review template too

A template may now be for upward feedback (`template_part` gains 'upward'), and a
cycle may choose one. Upward answers keep their answers by question key, like a
review's parts: the comment every answer had moves, word for word, to the answer
of the built-in template's question `comment`, and the column goes. Cycles already
launched are frozen with the built-in upward questions, which ask exactly what the
form asked before.

Downgrading keeps each answer's ratings and its `comment`; answers to the questions
of an upward template of HR's own have nowhere to go in the older shape and are lost.

Revision ID: c5e1a7b3d920
Revises: d3b66ff0f000
Create Date: 2026-12-05 20:00:00

"""

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "c5e1a7b3d920"
down_revision = "d3b66ff0f000"
branch_labels = None
depends_on = None

BEFORE = "part IN ('self', 'peer', 'manager')"
AFTER = "part IN ('self', 'peer', 'manager', 'upward')"

# The built-in upward questions as this revision knows them: later changes to the
# defaults in code must not change what an old cycle asked.
UPWARD = {
    "name": "Upward feedback",
    "part": "upward",
    "sections": [
        {
            "title": "How your manager supports you",
            "questions": [
                {
                    "key": "competencies",
                    "kind": "competencies",
                    "label": "Management competencies",
                    "help": "",
                    "required": False,
                    "audience": "part",
                },
                {
                    "key": "comment",
                    "kind": "text",
                    "label": "What should your manager keep doing, or do differently?",
                    "help": "",
                    "required": False,
                    "audience": "part",
                    "max_length": 2000,
                },
            ],
        }
    ],
}

answer = sa.table(
    "upward_answer",
    sa.column("id", sa.Integer),
    sa.column("comment", sa.Text),
    sa.column("answers", sa.JSON),
)
cycle = sa.table("cycle", sa.column("id", sa.Integer), sa.column("templates", sa.JSON))


@contextmanager
def _batch(table: str) -> Iterator[Any]:
    """SQLite rebuilds the table; reflecting the tables it refers to meets person's
    expression index, which SQLAlchemy skips with a warning (that table is not rebuilt)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
        with op.batch_alter_table(table) as batch:
            yield batch


def _parts(check: str) -> None:
    for table in ("review_template", "cycle_template"):
        with _batch(table) as batch:
            batch.drop_constraint("template_part", type_="check")
            batch.create_check_constraint("template_part", check)


def upgrade():
    _parts(AFTER)
    op.add_column(
        "upward_answer",
        sa.Column("answers", sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
    )
    conn = op.get_bind()
    for id_, comment in conn.execute(
        sa.select(answer.c.id, answer.c.comment).where(answer.c.comment != "")
    ).all():
        conn.execute(
            answer.update().where(answer.c.id == id_).values(answers={"comment": comment})
        )
    with _batch("upward_answer") as batch:
        batch.drop_column("comment")
    for id_, templates in conn.execute(
        sa.select(cycle.c.id, cycle.c.templates).where(cycle.c.templates.is_not(None))
    ).all():
        if isinstance(templates, dict):  # a launched cycle's (a JSON null is none)
            conn.execute(
                cycle.update()
                .where(cycle.c.id == id_)
                .values(templates={**templates, "upward": UPWARD})
            )


def downgrade():
    conn = op.get_bind()
    for id_, templates in conn.execute(
        sa.select(cycle.c.id, cycle.c.templates).where(cycle.c.templates.is_not(None))
    ).all():
        if not isinstance(templates, dict):
            continue
        kept = {part: doc for part, doc in templates.items() if part != "upward"}
        conn.execute(cycle.update().where(cycle.c.id == id_).values(templates=kept))
    op.add_column(
        "upward_answer",
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
    )
    for id_, answers in conn.execute(sa.select(answer.c.id, answer.c.answers)).all():
        text = answers.get("comment") if isinstance(answers, dict) else None
        if isinstance(text, str) and text:
            conn.execute(answer.update().where(answer.c.id == id_).values(comment=text))
    with _batch("upward_answer") as batch:
        batch.alter_column("comment", server_default=None)
        batch.drop_column("answers")
    op.execute("DELETE FROM cycle_template WHERE part = 'upward'")
    op.execute("DELETE FROM review_template WHERE part = 'upward'")
    _parts(BEFORE)
