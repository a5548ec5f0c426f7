"""Mail delivery per message: a state, attempts, the next try, the reason, a Message-ID

Until now a message was either sent (`sent_at`) or not, and a whole batch was
marked only at its end. Each message now records where it is on its way to a
mailbox (`mail_state`), how often it was tried, when it is tried again (or until
when a sender's claim holds), why it failed, and the Message-ID it went out with.
Messages already sent are `sent`; the others wait as `queued`. Each person can
keep their notifications in the app only (`person.mail_notifications`).

Revision ID: f1c3a9d72e58
Revises: e5b8f3d2a041
Create Date: 2026-12-04 15:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "f1c3a9d72e58"
down_revision = "e5b8f3d2a041"
branch_labels = None
depends_on = None

STATES = ("queued", "sending", "sent", "retry", "failed", "skipped")


def upgrade():
    with op.batch_alter_table("notification") as batch:
        batch.add_column(
            sa.Column(
                "mail_state",
                sa.Enum(*STATES, name="mail_state", native_enum=False, create_constraint=True, length=20),
                nullable=False,
                server_default="queued",
            )
        )
        batch.add_column(sa.Column("mail_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("mail_next_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("mail_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("message_id", sa.String(length=250), nullable=True))
    op.execute("UPDATE notification SET mail_state = 'sent' WHERE sent_at IS NOT NULL")
    op.create_index("ix_notification_mail_due", "notification", ["mail_state", "id"])
    with op.batch_alter_table("person") as batch:
        batch.add_column(
            sa.Column("mail_notifications", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade():
    with op.batch_alter_table("person") as batch:
        batch.drop_column("mail_notifications")
    op.drop_index("ix_notification_mail_due", table_name="notification")
    with op.batch_alter_table("notification") as batch:
        batch.drop_column("message_id")
        batch.drop_column("mail_error")
        batch.drop_column("mail_next_at")
        batch.drop_column("mail_attempts")
        batch.drop_constraint("mail_state", type_="check")
        batch.drop_column("mail_state")
