"""segment checksums computed on demand

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 19:37:52.936483
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # APPEND hashes a segment only when the client sends X-Segment-SHA256; STATUS
    # computes the others from the stored bytes when asked.
    with op.batch_alter_table("media_segments", schema=None) as batch_op:
        batch_op.alter_column("sha256", existing_type=sa.String(length=64), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE media_segments SET sha256 = '' WHERE sha256 IS NULL")
    with op.batch_alter_table("media_segments", schema=None) as batch_op:
        batch_op.alter_column("sha256", existing_type=sa.String(length=64), nullable=False)
