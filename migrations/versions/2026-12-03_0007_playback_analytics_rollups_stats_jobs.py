"""playback analytics rollups stats jobs

Revision ID: 0007
Revises: 0006a
Create Date: 2026-12-03 12:34:50.495302
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_locks",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_analytics_locks")),
    )
    locks = sa.table("analytics_locks", sa.column("name", sa.String))
    op.bulk_insert(locks, [{"name": "rollup"}, {"name": "prune"}])
    op.create_table(
        "analytics_media_hourly",
        sa.Column("media_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hour", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("starts", sa.BigInteger(), nullable=False),
        sa.Column("views_25", sa.BigInteger(), nullable=False),
        sa.Column("views_50", sa.BigInteger(), nullable=False),
        sa.Column("views_75", sa.BigInteger(), nullable=False),
        sa.Column("views_100", sa.BigInteger(), nullable=False),
        sa.Column("total_views", sa.BigInteger(), nullable=False),
        sa.Column("views_3s", sa.BigInteger(), nullable=False),
        sa.Column("views_6s", sa.BigInteger(), nullable=False),
        sa.Column("views_15s", sa.BigInteger(), nullable=False),
        sa.Column("watch_ms", sa.BigInteger(), nullable=False),
        sa.Column("cta_url_clicks", sa.BigInteger(), nullable=False),
        sa.Column("cta_watch_clicks", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("media_id", "hour", name=op.f("pk_analytics_media_hourly")),
    )
    op.create_table(
        "analytics_media_totals",
        sa.Column("media_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("starts", sa.BigInteger(), nullable=False),
        sa.Column("views_25", sa.BigInteger(), nullable=False),
        sa.Column("views_50", sa.BigInteger(), nullable=False),
        sa.Column("views_75", sa.BigInteger(), nullable=False),
        sa.Column("views_100", sa.BigInteger(), nullable=False),
        sa.Column("total_views", sa.BigInteger(), nullable=False),
        sa.Column("views_3s", sa.BigInteger(), nullable=False),
        sa.Column("views_6s", sa.BigInteger(), nullable=False),
        sa.Column("views_15s", sa.BigInteger(), nullable=False),
        sa.Column("watch_ms", sa.BigInteger(), nullable=False),
        sa.Column("cta_url_clicks", sa.BigInteger(), nullable=False),
        sa.Column("cta_watch_clicks", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("media_id", name=op.f("pk_analytics_media_totals")),
    )
    op.create_table(
        "playback_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("media_id", sa.BigInteger(), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("position_ms", sa.BigInteger(), nullable=True),
        sa.Column("quartile", sa.SmallInteger(), nullable=True),
        sa.Column("cta", sa.String(length=8), nullable=True),
        sa.Column("ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("received_ms", sa.BigInteger(), nullable=False),
        sa.Column("rolled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playback_events")),
        sa.UniqueConstraint("session_id", "seq", name=op.f("uq_playback_events_session_id_seq")),
    )
    with op.batch_alter_table("playback_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_playback_events_pending",
            ["id"],
            unique=False,
            postgresql_where=sa.text("NOT rolled"),
            sqlite_where=sa.text("rolled = 0"),
        )
        batch_op.create_index("ix_playback_events_received_ms", ["received_ms"], unique=False)

    op.create_table(
        "playback_sessions",
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("media_id", sa.BigInteger(), nullable=False),
        sa.Column("first_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_ms", sa.BigInteger(), nullable=False),
        sa.Column("top_seq", sa.BigInteger(), nullable=False),
        sa.Column("top_type", sa.String(length=16), nullable=False),
        sa.Column("top_ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("top_position_ms", sa.BigInteger(), nullable=True),
        sa.Column("watch_ms", sa.BigInteger(), nullable=False),
        sa.Column("flags", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=True),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_playback_sessions")),
    )
    with op.batch_alter_table("playback_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_playback_sessions_updated_ms"), ["updated_ms"], unique=False
        )

    op.create_table(
        "stats_jobs",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("file_key", sa.String(length=200), nullable=True),
        sa.Column("token", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["studio_accounts.id"],
            name=op.f("fk_stats_jobs_account_id_studio_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["accounts.id"],
            name=op.f("fk_stats_jobs_user_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_jobs")),
        sa.UniqueConstraint("token", name=op.f("uq_stats_jobs_token")),
    )
    with op.batch_alter_table("stats_jobs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stats_jobs_account_id_status", ["account_id", "status"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_stats_jobs_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("stats_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stats_jobs_expires_at"))
        batch_op.drop_index("ix_stats_jobs_account_id_status")

    op.drop_table("stats_jobs")
    with op.batch_alter_table("playback_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_playback_sessions_updated_ms"))

    op.drop_table("playback_sessions")
    with op.batch_alter_table("playback_events", schema=None) as batch_op:
        batch_op.drop_index("ix_playback_events_received_ms")
        batch_op.drop_index(
            "ix_playback_events_pending",
            postgresql_where=sa.text("NOT rolled"),
            sqlite_where=sa.text("rolled = 0"),
        )

    op.drop_table("playback_events")
    op.drop_table("analytics_media_totals")
    op.drop_table("analytics_media_hourly")
    op.drop_table("analytics_locks")
