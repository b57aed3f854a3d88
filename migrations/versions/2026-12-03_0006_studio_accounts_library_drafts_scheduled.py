"""studio accounts library drafts scheduled

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 06:10:22.202973
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "studio_accounts",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("promotable_user_id", sa.String(length=16), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("timezone_switch_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["accounts.id"],
            name=op.f("fk_studio_accounts_owner_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_accounts")),
        sa.UniqueConstraint(
            "promotable_user_id", name=op.f("uq_studio_accounts_promotable_user_id")
        ),
    )
    with op.batch_alter_table("studio_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_studio_accounts_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "studio_draft_tweets",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=True),
        sa.Column("card_uri", sa.String(length=200), nullable=True),
        sa.Column("nullcast", sa.Boolean(), nullable=False),
        sa.Column("media_keys", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["studio_accounts.id"],
            name=op.f("fk_studio_draft_tweets_account_id_studio_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["accounts.id"],
            name=op.f("fk_studio_draft_tweets_user_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_draft_tweets")),
    )
    with op.batch_alter_table("studio_draft_tweets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_studio_draft_tweets_account_id_id", ["account_id", "id"], unique=False
        )

    op.create_table(
        "studio_library_items",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.String(length=16), nullable=False),
        sa.Column("media_id", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("title", sa.String(length=70), nullable=True),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("poster_media_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["studio_accounts.id"],
            name=op.f("fk_studio_library_items_account_id_studio_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media.id"],
            name=op.f("fk_studio_library_items_media_id_media"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["poster_media_id"],
            ["media.id"],
            name=op.f("fk_studio_library_items_poster_media_id_media"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_library_items")),
        sa.UniqueConstraint(
            "account_id", "media_id", name=op.f("uq_studio_library_items_account_id_media_id")
        ),
    )
    with op.batch_alter_table("studio_library_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_studio_library_items_account_id_id", ["account_id", "id"], unique=False
        )
        batch_op.create_index(
            "ix_studio_library_items_account_id_media_type_id",
            ["account_id", "media_type", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_studio_library_items_media_id"), ["media_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_studio_library_items_poster_media_id"), ["poster_media_id"], unique=False
        )

    op.create_table(
        "studio_members",
        sa.Column("account_id", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("permissions", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["studio_accounts.id"],
            name=op.f("fk_studio_members_account_id_studio_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["accounts.id"],
            name=op.f("fk_studio_members_user_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "user_id", name=op.f("pk_studio_members")),
    )
    with op.batch_alter_table("studio_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_studio_members_user_id"), ["user_id"], unique=False)

    op.create_table(
        "studio_scheduled_tweets",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=True),
        sa.Column("card_uri", sa.String(length=200), nullable=True),
        sa.Column("nullcast", sa.Boolean(), nullable=False),
        sa.Column("media_keys", sa.Text(), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tweet_id", sa.BigInteger(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["studio_accounts.id"],
            name=op.f("fk_studio_scheduled_tweets_account_id_studio_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["accounts.id"],
            name=op.f("fk_studio_scheduled_tweets_created_by_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["accounts.id"],
            name=op.f("fk_studio_scheduled_tweets_user_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_scheduled_tweets")),
        sa.UniqueConstraint("tweet_id", name=op.f("uq_studio_scheduled_tweets_tweet_id")),
    )
    with op.batch_alter_table("studio_scheduled_tweets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_studio_scheduled_tweets_account_id_id", ["account_id", "id"], unique=False
        )
        batch_op.create_index(
            "ix_studio_scheduled_tweets_account_id_scheduled_at",
            ["account_id", "scheduled_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_studio_scheduled_tweets_status_scheduled_at",
            ["status", "scheduled_at"],
            unique=False,
        )

    op.create_table(
        "studio_library_terms",
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["studio_library_items.id"],
            name=op.f("fk_studio_library_terms_item_id_studio_library_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("item_id", "term", name=op.f("pk_studio_library_terms")),
    )
    with op.batch_alter_table("studio_library_terms", schema=None) as batch_op:
        batch_op.create_index(
            "ix_studio_library_terms_account_id_term_item_id",
            ["account_id", "term", "item_id"],
            unique=False,
        )

    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.add_column(sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("nullcast", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("name", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("card_uri", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_column("card_uri")
        batch_op.drop_column("name")
        batch_op.drop_column("nullcast")

    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_column("removed_at")

    with op.batch_alter_table("studio_library_terms", schema=None) as batch_op:
        batch_op.drop_index("ix_studio_library_terms_account_id_term_item_id")

    op.drop_table("studio_library_terms")
    with op.batch_alter_table("studio_scheduled_tweets", schema=None) as batch_op:
        batch_op.drop_index("ix_studio_scheduled_tweets_status_scheduled_at")
        batch_op.drop_index("ix_studio_scheduled_tweets_account_id_scheduled_at")
        batch_op.drop_index("ix_studio_scheduled_tweets_account_id_id")

    op.drop_table("studio_scheduled_tweets")
    with op.batch_alter_table("studio_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_studio_members_user_id"))

    op.drop_table("studio_members")
    with op.batch_alter_table("studio_library_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_studio_library_items_poster_media_id"))
        batch_op.drop_index(batch_op.f("ix_studio_library_items_media_id"))
        batch_op.drop_index("ix_studio_library_items_account_id_media_type_id")
        batch_op.drop_index("ix_studio_library_items_account_id_id")

    op.drop_table("studio_library_items")
    with op.batch_alter_table("studio_draft_tweets", schema=None) as batch_op:
        batch_op.drop_index("ix_studio_draft_tweets_account_id_id")

    op.drop_table("studio_draft_tweets")
    with op.batch_alter_table("studio_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_studio_accounts_owner_id"))

    op.drop_table("studio_accounts")
