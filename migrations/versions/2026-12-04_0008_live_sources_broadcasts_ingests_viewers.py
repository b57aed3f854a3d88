"""live sources broadcasts ingests viewers

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 19:23:48.715366
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "live_sources",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=8), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("stream_key", sa.String(length=64), nullable=False),
        sa.Column("live_name", sa.String(length=32), nullable=False),
        sa.Column("external_hls_url", sa.Text(), nullable=True),
        sa.Column("srt_port", sa.Integer(), nullable=True),
        sa.Column("is_stream_active", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("stream_attributes", sa.JSON(), nullable=True),
        sa.Column("compatibility_info", sa.JSON(), nullable=True),
        sa.Column("probed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["accounts.id"],
            name=op.f("fk_live_sources_user_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_sources")),
        sa.UniqueConstraint("live_name", name=op.f("uq_live_sources_live_name")),
        sa.UniqueConstraint("srt_port", name=op.f("uq_live_sources_srt_port")),
        sa.UniqueConstraint("stream_key", name=op.f("uq_live_sources_stream_key")),
    )
    with op.batch_alter_table("live_sources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_sources_user_id"), ["user_id"], unique=False)

    op.create_table(
        "live_broadcasts",
        sa.Column("id", sa.String(length=13), nullable=False),
        sa.Column("media_number", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("source_id", sa.String(length=24), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=280), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("chat_option", sa.SmallInteger(), nullable=False),
        sa.Column("no_hearts", sa.Boolean(), nullable=False),
        sa.Column("is_low_latency", sa.Boolean(), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=True),
        sa.Column("preview_token", sa.String(length=48), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ingest_lost_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("total_watched", sa.Integer(), nullable=False),
        sa.Column("recording_state", sa.String(length=12), nullable=False),
        sa.Column("recording_error", sa.Text(), nullable=True),
        sa.Column("media_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media.id"],
            name=op.f("fk_live_broadcasts_media_id_media"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["live_sources.id"],
            name=op.f("fk_live_broadcasts_source_id_live_sources"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["accounts.id"],
            name=op.f("fk_live_broadcasts_user_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_broadcasts")),
        sa.UniqueConstraint("media_number", name=op.f("uq_live_broadcasts_media_number")),
    )
    with op.batch_alter_table("live_broadcasts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_broadcasts_media_id"), ["media_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_live_broadcasts_source_id"), ["source_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_live_broadcasts_state"), ["state"], unique=False)
        batch_op.create_index(
            "ix_live_broadcasts_user_id_created_at", ["user_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "uq_live_broadcasts_active_source",
            ["source_id"],
            unique=True,
            postgresql_where=sa.text("state IN ('NOT_STARTED', 'RUNNING')"),
            sqlite_where=sa.text("state IN ('NOT_STARTED', 'RUNNING')"),
        )

    op.create_table(
        "live_ingests",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("source_id", sa.String(length=24), nullable=False),
        sa.Column("broadcast_id", sa.String(length=13), nullable=True),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("record_path", sa.Text(), nullable=True),
        sa.Column("recorded", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["live_broadcasts.id"],
            name=op.f("fk_live_ingests_broadcast_id_live_broadcasts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["live_sources.id"],
            name=op.f("fk_live_ingests_source_id_live_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_ingests")),
    )
    with op.batch_alter_table("live_ingests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_live_ingests_broadcast_id"), ["broadcast_id"], unique=False
        )
        batch_op.create_index(
            "ix_live_ingests_source_id_ended_at", ["source_id", "ended_at"], unique=False
        )

    op.create_table(
        "live_viewers",
        sa.Column("broadcast_id", sa.String(length=13), nullable=False),
        sa.Column("viewer", sa.String(length=32), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["live_broadcasts.id"],
            name=op.f("fk_live_viewers_broadcast_id_live_broadcasts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("broadcast_id", "viewer", name=op.f("pk_live_viewers")),
    )
    with op.batch_alter_table("live_viewers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_viewers_last_seen"), ["last_seen"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("live_viewers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_live_viewers_last_seen"))

    op.drop_table("live_viewers")
    with op.batch_alter_table("live_ingests", schema=None) as batch_op:
        batch_op.drop_index("ix_live_ingests_source_id_ended_at")
        batch_op.drop_index(batch_op.f("ix_live_ingests_broadcast_id"))

    op.drop_table("live_ingests")
    with op.batch_alter_table("live_broadcasts", schema=None) as batch_op:
        batch_op.drop_index("uq_live_broadcasts_active_source")
        batch_op.drop_index("ix_live_broadcasts_user_id_created_at")
        batch_op.drop_index(batch_op.f("ix_live_broadcasts_state"))
        batch_op.drop_index(batch_op.f("ix_live_broadcasts_source_id"))
        batch_op.drop_index(batch_op.f("ix_live_broadcasts_media_id"))

    op.drop_table("live_broadcasts")
    with op.batch_alter_table("live_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_live_sources_user_id"))

    op.drop_table("live_sources")
