"""api_token: personal access tokens of the read API (/api/v1)

Revision ID: 0006_api_tokens
Revises: 0005_population_source
Create Date: 2026-11-30 18:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_api_tokens"
down_revision = "0005_population_source"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("account.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime()),
        sa.Column("last_used", sa.DateTime()),
    )
    op.create_index("ix_api_token_account", "api_token", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_api_token_account", table_name="api_token")
    op.drop_table("api_token")
