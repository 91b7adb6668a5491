"""offers, vouchers, abusive customers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import amends.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "discount",
                "voucher",
                "free_months",
                "refund",
                "replacement",
                "gift",
                name="remedykind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending_approval",
                "made",
                "accepted",
                "refused",
                "withdrawn",
                "redeemed",
                name="offerstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("made_by", sa.String(length=254), nullable=False),
        sa.Column("approved_by", sa.String(length=254), nullable=True),
        sa.Column("approved_at", amends.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", amends.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("made_at", amends.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_at", amends.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("suggestion", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_offers_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_offers_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
    )
    op.create_index(op.f("ix_offers_case_id"), "offers", ["case_id"], unique=False)
    op.create_index("ix_offers_created_at", "offers", ["created_at"], unique=False)
    op.create_index("ix_offers_customer_status", "offers", ["customer_id", "status"], unique=False)
    op.create_table(
        "vouchers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("created_at", amends.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", amends.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("redeemed_at", amends.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("redeemed_ref", sa.String(length=200), nullable=True),
        sa.Column("voided_at", amends.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_vouchers_offer_id_offers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vouchers")),
        sa.UniqueConstraint("code", name=op.f("uq_vouchers_code")),
        sa.UniqueConstraint("offer_id", name=op.f("uq_vouchers_offer_id")),
    )
    # Existing customers are not abusive; batch mode so that SQLite can add the columns.
    with op.batch_alter_table("customers") as batch:
        batch.add_column(
            sa.Column("abusive", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("abusive_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("abusive_reason")
        batch.drop_column("abusive")
    op.drop_table("vouchers")
    op.drop_index("ix_offers_customer_status", table_name="offers")
    op.drop_index("ix_offers_created_at", table_name="offers")
    op.drop_index(op.f("ix_offers_case_id"), table_name="offers")
    op.drop_table("offers")
