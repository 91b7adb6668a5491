"""reply findings: what the checker found in each sent reply

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 19:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import amends.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reply_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feedback_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("at", amends.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("overridden", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_reply_findings_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_reply_findings_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["feedback_id"], ["feedback.id"], name=op.f("fk_reply_findings_feedback_id_feedback")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_findings")),
    )
    op.create_index(
        "ix_reply_findings_agent_at", "reply_findings", ["agent_id", "at"], unique=False
    )
    op.create_index(op.f("ix_reply_findings_case_id"), "reply_findings", ["case_id"], unique=False)
    op.create_index(
        op.f("ix_reply_findings_feedback_id"), "reply_findings", ["feedback_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_reply_findings_feedback_id"), table_name="reply_findings")
    op.drop_index(op.f("ix_reply_findings_case_id"), table_name="reply_findings")
    op.drop_index("ix_reply_findings_agent_at", table_name="reply_findings")
    op.drop_table("reply_findings")
