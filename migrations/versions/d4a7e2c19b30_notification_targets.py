"""Notifications name the page they point to, not its URL

A notification kept a URL built when it was written (`link`): operations needed a
request to build it, and a URL written as absolute got PUBLIC_URL prepended again
when mailed. It now keeps the page's endpoint and the one id its route takes
(`target`, `target_id`), and whoever shows or mails it builds the URL. Existing
links are matched against the app's routes; one no route matches any more points
to the outbox.

Revision ID: d4a7e2c19b30
Revises: c81f0d2b9e45
Create Date: 2026-12-04 14:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "d4a7e2c19b30"
down_revision = "c81f0d2b9e45"
branch_labels = None
depends_on = None

notification = sa.table(
    "notification",
    sa.column("id", sa.Integer),
    sa.column("link", sa.String),
    sa.column("target", sa.String),
    sa.column("target_id", sa.Integer),
)


def upgrade():
    from reviews.links import link_for_path

    with op.batch_alter_table("notification") as batch:
        batch.add_column(sa.Column("target", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("target_id", sa.Integer(), nullable=True))
    conn = op.get_bind()
    links = conn.execute(sa.select(notification.c.link).distinct()).scalars().all()
    for link in links:
        found = link_for_path(link or "")
        endpoint, target_id = found if found else ("notifications.outbox", None)
        conn.execute(
            notification.update()
            .where(notification.c.link == link)
            .values(target=endpoint, target_id=target_id)
        )
    with op.batch_alter_table("notification") as batch:
        batch.alter_column("target", existing_type=sa.String(length=80), nullable=False)
        batch.drop_column("link")


def downgrade():
    from flask import current_app

    from reviews.links import Link, url_of

    with op.batch_alter_table("notification") as batch:
        batch.add_column(sa.Column("link", sa.String(length=300), nullable=True))
    conn = op.get_bind()
    pairs = conn.execute(
        sa.select(notification.c.target, notification.c.target_id).distinct()
    ).all()
    with current_app.app_context():
        for target, target_id in pairs:
            conn.execute(
                notification.update()
                .where(notification.c.target == target)
                .where(
                    notification.c.target_id.is_(None)
                    if target_id is None
                    else notification.c.target_id == target_id
                )
                .values(link=url_of(Link(target, target_id)))
            )
    with op.batch_alter_table("notification") as batch:
        batch.alter_column("link", existing_type=sa.String(length=300), nullable=False)
        batch.drop_column("target_id")
        batch.drop_column("target")
