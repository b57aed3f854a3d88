"""media variants and delivery tokens

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 17:10:53.069344
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "media_variants",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("media_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "photo", "mp4", "hls", "preview", name="variantkind", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("bitrate", sa.Integer(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media.id"],
            name=op.f("fk_media_variants_media_id_media"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_variants")),
        sa.UniqueConstraint(
            "media_id", "kind", "name", name=op.f("uq_media_variants_media_id_kind_name")
        ),
    )
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery_token", sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_media_delivery_token"), ["delivery_token"])


def downgrade() -> None:
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_media_delivery_token"), type_="unique")
        batch_op.drop_column("delivery_token")

    op.drop_table("media_variants")
