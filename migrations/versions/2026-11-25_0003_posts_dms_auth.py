"""posts dms auth

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 17:13:34.876968
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "oauth_nonces",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_nonces")),
    )
    with op.batch_alter_table("oauth_nonces", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oauth_nonces_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "rate_limit_windows",
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("endpoint", sa.String(length=100), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("subject", "endpoint", name=op.f("pk_rate_limit_windows")),
    )
    op.create_table(
        "posts",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("possibly_sensitive", sa.Boolean(), nullable=False),
        sa.Column("in_reply_to_status_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["accounts.id"],
            name=op.f("fk_posts_author_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
    )
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_posts_author_id"), ["author_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_posts_created_at"), ["created_at"], unique=False)

    op.create_table(
        "direct_messages",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("sender_id", sa.BigInteger(), nullable=False),
        sa.Column("recipient_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("media_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media.id"],
            name=op.f("fk_direct_messages_media_id_media"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["accounts.id"],
            name=op.f("fk_direct_messages_recipient_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"],
            ["accounts.id"],
            name=op.f("fk_direct_messages_sender_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_direct_messages")),
    )
    with op.batch_alter_table("direct_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_direct_messages_media_id"), ["media_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_direct_messages_recipient_id"), ["recipient_id"], unique=False
        )

    op.create_table(
        "media_subtitles",
        sa.Column("video_id", sa.BigInteger(), nullable=False),
        sa.Column("language_code", sa.String(length=16), nullable=False),
        sa.Column("subtitle_id", sa.BigInteger(), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["subtitle_id"],
            ["media.id"],
            name=op.f("fk_media_subtitles_subtitle_id_media"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["media.id"],
            name=op.f("fk_media_subtitles_video_id_media"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("video_id", "language_code", name=op.f("pk_media_subtitles")),
    )
    op.create_table(
        "post_media",
        sa.Column("post_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media.id"],
            name=op.f("fk_post_media_media_id_media"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_post_media_post_id_posts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("post_id", "position", name=op.f("pk_post_media")),
    )
    with op.batch_alter_table("post_media", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_post_media_media_id"), ["media_id"], unique=False)

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("profile_image_token", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("profile_banner_token", sa.String(length=32), nullable=True))

    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alt_text", sa.Text(), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_column("alt_text")

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("profile_banner_token")
        batch_op.drop_column("profile_image_token")

    with op.batch_alter_table("post_media", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_post_media_media_id"))

    op.drop_table("post_media")
    op.drop_table("media_subtitles")
    with op.batch_alter_table("direct_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_direct_messages_recipient_id"))
        batch_op.drop_index(batch_op.f("ix_direct_messages_media_id"))

    op.drop_table("direct_messages")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_posts_created_at"))
        batch_op.drop_index(batch_op.f("ix_posts_author_id"))

    op.drop_table("posts")
    op.drop_table("rate_limit_windows")
    with op.batch_alter_table("oauth_nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_nonces_expires_at"))

    op.drop_table("oauth_nonces")
