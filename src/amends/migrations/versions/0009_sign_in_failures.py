"""sign-in failures: limits per account and address, per address, and per account

Failed sign-ins were counted on the account alone, so anyone who knew an email could keep its
owner out by failing five times. Each failure is now a row (the address tried and where from),
kept for a day, so the limits can tell one place from another; a browser session records the
place it signed in from, which the limits on addresses and accounts let through.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import amends.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("at", amends.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failures")),
    )
    op.create_index("ix_sign_in_failures_email", "sign_in_failures", ["email", "at"])
    op.create_index("ix_sign_in_failures_source", "sign_in_failures", ["source", "at"])
    op.create_index("ix_sign_in_failures_at", "sign_in_failures", ["at"])
    with op.batch_alter_table("login_sessions") as batch:
        batch.add_column(sa.Column("source", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("login_sessions") as batch:
        batch.drop_column("source")
    op.drop_index("ix_sign_in_failures_at", table_name="sign_in_failures")
    op.drop_index("ix_sign_in_failures_source", table_name="sign_in_failures")
    op.drop_index("ix_sign_in_failures_email", table_name="sign_in_failures")
    op.drop_table("sign_in_failures")
