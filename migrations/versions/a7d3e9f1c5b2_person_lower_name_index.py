"""An index of people's names in lower case

A colleague named in a form by full name, in any case (the people picker's
rule, reviews.people.lookup), was found by comparing lower(name) for every
person: 80 ms at 100,000 people for each name typed. The index answers it
with one probe.

Revision ID: a7d3e9f1c5b2
Revises: e6a2c4b8d0f3
Create Date: 2026-12-05 11:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "a7d3e9f1c5b2"
down_revision = "e6a2c4b8d0f3"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_person_lower_name", "person", [sa.text("lower(name)")])


def downgrade():
    op.drop_index("ix_person_lower_name", table_name="person")
