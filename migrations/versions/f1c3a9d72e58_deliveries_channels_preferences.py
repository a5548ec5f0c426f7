"""Deliveries per channel, each person's channels and timing

Until now a notification was either mailed (`sent_at`) or not, and a whole batch
was marked only at its end. Each notification now gets a delivery per channel it
goes through (e-mail, the person's Slack or Teams webhook, the company's signed
webhook), claimed, sent and marked on its own, with its attempts, next try,
failure and message id. A person chooses, per kind of notification, to get it
immediately, in a daily digest or in the app only (`notification_preference`),
whether it is mailed (`person.mail_notifications`), and their chat webhooks
(`chat_hook`). Notifications already mailed keep that as a sent e-mail delivery;
the others wait to be dispatched (only those still relevant then are sent).

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

CHANNELS = ("email", "slack", "teams", "webhook")
STATES = ("queued", "digest", "sending", "sent", "retry", "failed", "skipped")
TIMINGS = ("immediately", "daily", "app_only")


def _enum(values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def upgrade():
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "notification_id",
            sa.Integer(),
            sa.ForeignKey("notification.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "recipient_id", sa.Integer(), sa.ForeignKey("person.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("channel", _enum(CHANNELS, "delivery_channel"), nullable=False),
        sa.Column("state", _enum(STATES, "delivery_state"), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=250), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("notification_id", "channel", name="one_per_channel"),
    )
    op.create_index("ix_delivery_due", "delivery", ["state", "next_at"])
    op.create_index("ix_delivery_digest", "delivery", ["recipient_id", "channel", "state"])
    op.create_table(
        "notification_preference",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "person_id", sa.Integer(), sa.ForeignKey("person.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("timing", _enum(TIMINGS, "notification_timing"), nullable=False),
        sa.UniqueConstraint("person_id", "kind", name="one_per_kind"),
    )
    op.create_table(
        "chat_hook",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "person_id", sa.Integer(), sa.ForeignKey("person.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("channel", _enum(CHANNELS, "chat_hook_channel"), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("person_id", "channel", name="one_hook_per_channel"),
    )
    with op.batch_alter_table("person") as batch:
        batch.add_column(
            sa.Column("mail_notifications", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("notification") as batch:
        batch.add_column(sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "INSERT INTO delivery (notification_id, recipient_id, channel, state, attempts, sent_at) "
        "SELECT id, recipient_id, 'email', 'sent', 1, sent_at FROM notification "
        "WHERE sent_at IS NOT NULL"
    )
    op.execute("UPDATE notification SET dispatched_at = sent_at WHERE sent_at IS NOT NULL")
    with op.batch_alter_table("notification") as batch:
        batch.drop_column("sent_at")
    op.create_index("ix_notification_undispatched", "notification", ["dispatched_at", "id"])


def downgrade():
    op.drop_index("ix_notification_undispatched", table_name="notification")
    with op.batch_alter_table("notification") as batch:
        batch.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
    # What was dispatched counts as sent (the old code would mail it all, months old
    # included); what was not waits to be mailed, as it did before.
    op.execute(
        "UPDATE notification SET sent_at = COALESCE((SELECT d.sent_at FROM delivery d "
        "WHERE d.notification_id = notification.id AND d.channel = 'email' AND d.state = 'sent'), "
        "dispatched_at) WHERE dispatched_at IS NOT NULL"
    )
    with op.batch_alter_table("notification") as batch:
        batch.drop_column("dispatched_at")
    with op.batch_alter_table("person") as batch:
        batch.drop_column("mail_notifications")
    op.drop_table("chat_hook")
    op.drop_table("notification_preference")
    op.drop_index("ix_delivery_digest", table_name="delivery")
    op.drop_index("ix_delivery_due", table_name="delivery")
    op.drop_table("delivery")
