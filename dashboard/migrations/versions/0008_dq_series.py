"""dq_series: the data-quality review's tracer series, a blob per year and element

Revision ID: 0008_dq_series
Revises: 0007_value_spans
Create Date: 2026-12-01 00:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_dq_series"
down_revision = "0007_value_spans"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Filled by the next rollup refresh: the store's rollup format moves with this revision.
    op.create_table(
        "dq_series",
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("data_element_id", sa.Integer(), nullable=False),
        sa.Column("ids", sa.LargeBinary(), nullable=False),
        sa.Column("vals", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("year", "data_element_id", name="pk_dq_series"),
    )


def downgrade() -> None:
    op.drop_table("dq_series")
