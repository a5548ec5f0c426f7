"""Growth-plan ZIP jobs split into shards that any worker can take

A job now plans slices of at most JOB_SHARD_SIZE plans (job_shard), each an RQ
job of its own; the job counts its shards and the one that finishes last
assembles the archive. Jobs of earlier versions have no shards: a retry plans them.

Revision ID: b3f1c7a9d2e4
Revises: c4d8e2a6f0b1
Create Date: 2026-12-05 07:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b3f1c7a9d2e4"
down_revision = "c4d8e2a6f0b1"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("shard_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("shards_done", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.alter_column("shard_count", server_default=None)
        batch_op.alter_column("shards_done", server_default=None)
    op.create_table(
        "job_shard",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("first_review_id", sa.Integer(), nullable=False),
        sa.Column("last_review_id", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "queued",
                "running",
                "done",
                "failed",
                name="job_shard_state",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=120), nullable=True),
        sa.Column("file_name", sa.String(length=120), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state <> 'done' OR file_name IS NOT NULL", name=op.f("ck_job_shard_done_has_file")
        ),
        sa.CheckConstraint(
            "done >= 0 AND done <= total", name=op.f("ck_job_shard_progress_in_range")
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["job.id"], name=op.f("fk_job_shard_job_id_job"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_shard")),
        sa.UniqueConstraint("job_id", "number", name=op.f("uq_job_shard_job_id_number")),
    )


def downgrade():
    op.drop_table("job_shard")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_column("shards_done")
        batch_op.drop_column("shard_count")
