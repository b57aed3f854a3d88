"""studio account industry_type

Revision ID: 0006a
Revises: 0006
Create Date: 2026-12-03 06:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006a"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("studio_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("industry_type", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("studio_accounts", schema=None) as batch_op:
        batch_op.drop_column("industry_type")
