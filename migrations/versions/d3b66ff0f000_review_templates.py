"""Review templates: the questions each part asks, frozen per cycle

HR's templates get a table; a draft cycle names the template it will ask of a part
(`cycle_template`; none: the built-in questions) and freezes them at launch into
`cycle.templates`.
Cycles launched before this revision asked the built-in questions, which the
default templates reproduce exactly: they are frozen as such, so every answer
already written reads as before. Answers chosen rather than written (scales,
choices, yes/no) get a column of their own beside the free-text `answers`.

Revision ID: d3b66ff0f000
Revises: a7d3e9f1c5b2
Create Date: 2026-12-05 17:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "d3b66ff0f000"
down_revision = "a7d3e9f1c5b2"
branch_labels = None
depends_on = None

PARTS = ("self", "peer", "manager")


def _frozen_defaults() -> dict:
    # The documents as this revision knows them: later changes to the defaults in
    # code must not change what an old cycle was asked.
    def text(key, label):
        return {
            "key": key,
            "kind": "text",
            "label": label,
            "help": "",
            "required": True,
            "audience": "part",
            "max_length": 5000,
        }

    def ratings(required):
        return {
            "key": "competencies",
            "kind": "competencies",
            "label": "Competencies",
            "help": "",
            "required": required,
            "audience": "part",
        }

    def section(title, questions):
        return {"title": title, "questions": [text(k, lb) for k, lb in questions]}

    competencies = {"title": "Competencies", "questions": [ratings(True)]}
    return {
        "self": {
            "name": "Self-review",
            "part": "self",
            "sections": [
                competencies,
                section(
                    "Looking back and ahead",
                    [
                        ("accomplishments", "Accomplishments this period"),
                        ("growth", "What you want to grow next"),
                    ],
                ),
            ],
        },
        "peer": {
            "name": "Peer feedback",
            "part": "peer",
            "sections": [
                section(
                    "Your feedback",
                    [
                        ("strengths", "Strengths"),
                        ("growth_areas", "Growth areas"),
                        ("suggestion", "One concrete suggestion"),
                    ],
                ),
                {"title": "Competencies", "questions": [ratings(False)]},
            ],
        },
        "manager": {
            "name": "Manager review",
            "part": "manager",
            "sections": [
                competencies,
                section(
                    "Summary",
                    [
                        ("summary", "Summary"),
                        ("strengths", "Strengths"),
                        ("growth_areas", "Growth areas"),
                    ],
                ),
            ],
            "labels": {
                "overall": "Overall performance",
                "potential": "Potential",
                "readiness": "Promotion readiness",
            },
        },
    }


def upgrade():
    op.create_table(
        "review_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column(
            "part",
            sa.Enum(
                "self",
                "peer",
                "manager",
                name="template_part",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_template")),
    )
    op.create_table(
        "cycle_template",
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column(
            "part",
            sa.Enum(
                "self",
                "peer",
                "manager",
                name="template_part",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["cycle.id"],
            name=op.f("fk_cycle_template_cycle_id_cycle"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["review_template.id"],
            name=op.f("fk_cycle_template_template_id_review_template"),
        ),
        sa.PrimaryKeyConstraint("cycle_id", "part", name=op.f("pk_cycle_template")),
    )
    op.create_index(
        op.f("ix_cycle_template_template_id"), "cycle_template", ["template_id"], unique=False
    )
    # Plain ADD COLUMNs: batch mode would rebuild these tables without their triggers.
    op.add_column("cycle", sa.Column("templates", sa.JSON(), nullable=True))
    op.add_column(
        "assessment",
        sa.Column("choices", sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
    )
    op.execute(
        sa.text("UPDATE cycle SET templates = :frozen WHERE state <> 'draft'").bindparams(
            sa.bindparam("frozen", _frozen_defaults(), type_=sa.JSON())
        )
    )


def downgrade():
    op.drop_column("assessment", "choices")
    op.drop_column("cycle", "templates")
    op.drop_index(op.f("ix_cycle_template_template_id"), table_name="cycle_template")
    op.drop_table("cycle_template")
    op.drop_table("review_template")
