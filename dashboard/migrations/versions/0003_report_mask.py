"""report_mask: months with a received report per facility and year, as bits

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 04:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_mask",
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("mask", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("org_unit_id", "year", name="pk_report_mask"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("report_mask")
