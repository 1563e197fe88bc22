"""population.estimated and agg_population.estimated: figures the product estimated

Revision ID: 0005_population_source
Revises: 0004_accounts
Create Date: 2026-11-30 16:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_population_source"
down_revision = "0004_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("population", "agg_population"):
        op.add_column(
            table,
            sa.Column("estimated", sa.SmallInteger(), nullable=False, server_default=sa.text("0")),
        )


def downgrade() -> None:
    for table in ("population", "agg_population"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("estimated")
