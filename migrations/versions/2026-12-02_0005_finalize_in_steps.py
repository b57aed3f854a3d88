"""finalize in steps; index-less APPEND reservations

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # FINALIZE marks the upload first (APPENDs refused), assembles with no transaction
    # open, then records; the mark is a lease a later FINALIZE may take over.
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("finalizing_until", sa.DateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "media_segment_reservations",
        sa.Column("media_id", sa.BigInteger(), nullable=False),
        sa.Column("segment_index", sa.Integer(), nullable=False),
        sa.Column("reserved_until", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media.id"],
            name=op.f("fk_media_segment_reservations_media_id_media"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "media_id", "segment_index", name=op.f("pk_media_segment_reservations")
        ),
    )


def downgrade() -> None:
    op.drop_table("media_segment_reservations")
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_column("finalizing_until")
