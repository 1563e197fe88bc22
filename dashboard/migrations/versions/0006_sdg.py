"""sdg_target: the SDG 3 indicator each catalogue indicator tracks and its 2030 target

Revision ID: 0006_sdg
Revises: 0005_population_source
Create Date: 2026-11-30 18:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_sdg"
down_revision = "0006_api_tokens"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sdg_target",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("sdg", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("target_2030", sa.Float(), nullable=True),
        sa.Column("reduction", sa.Float(), nullable=True),
        sa.Column("baseline_year", sa.SmallInteger(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["indicator_id"], ["indicator.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("indicator_id"),
    )


def downgrade() -> None:
    op.drop_table("sdg_target")
