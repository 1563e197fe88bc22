"""data_value_span and value_change_span: counts reported for a whole quarter or year

Revision ID: 0007_value_spans
Revises: 0006_sdg
Create Date: 2026-11-30 21:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_value_spans"
down_revision = "0006_sdg"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_value_span",
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.Column("data_element_id", sa.Integer(), nullable=False),
        sa.Column("grain", sa.String(1), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "org_unit_id", "data_element_id", "grain", "period", name="pk_data_value_span"
        ),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_data_value_span_period", "data_value_span", ["grain", "period"])
    op.create_table(
        "value_change_span",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.Column("data_element_id", sa.Integer(), nullable=False),
        sa.Column("grain", sa.String(1), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("old_value", sa.Float(), nullable=False),
        sa.Column("new_value", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("value_change_span")
    op.drop_index("ix_data_value_span_period", table_name="data_value_span")
    op.drop_table("data_value_span")
