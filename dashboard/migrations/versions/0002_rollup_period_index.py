"""rollup: index on (grain, period) for year-scoped refreshes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 04:22:00
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_rollup_period", "rollup", ["grain", "period"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_rollup_period", table_name="rollup")
