"""Covering indexes for the completion figures, and reviews by manager

The dashboard and cycle progress count parts by kind and state and peer
requests by state over a whole cycle. Indexes holding those columns let the
database answer without reading the parts' wide rows (their JSON texts). They
replace the plain review_id indexes, whose lookups they also serve. The home
page finds a manager's reviews across cycles: review(manager_id, cycle_id)
replaces review(cycle_id, manager_id), since the unique (cycle_id, subject_id)
already serves lookups by cycle.

Revision ID: c3d58e0f7b21
Revises: b7c41d2e9a10
Create Date: 2026-11-25 16:10:00

"""
from alembic import op

revision = "c3d58e0f7b21"
down_revision = "b7c41d2e9a10"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_assessment_review_state",
        "assessment",
        ["review_id", "kind", "state", "overall_rating"],
    )
    op.drop_index("ix_assessment_review_id", table_name="assessment")
    op.create_index("ix_peer_request_review_state", "peer_request", ["review_id", "state"])
    op.drop_index("ix_peer_request_review_id", table_name="peer_request")
    op.create_index("ix_review_manager_cycle", "review", ["manager_id", "cycle_id"])
    op.drop_index("ix_review_cycle_manager", table_name="review")


def downgrade():
    op.create_index("ix_review_cycle_manager", "review", ["cycle_id", "manager_id"])
    op.drop_index("ix_review_manager_cycle", table_name="review")
    op.create_index("ix_peer_request_review_id", "peer_request", ["review_id"])
    op.drop_index("ix_peer_request_review_state", table_name="peer_request")
    op.create_index("ix_assessment_review_id", "assessment", ["review_id"])
    op.drop_index("ix_assessment_review_state", table_name="assessment")
