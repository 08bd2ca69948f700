"""api keys; transcription tasks and voice warnings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 13:12:05.815043
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index("ix_api_keys_user_created", ["user_id", "created_at"], unique=False)

    with op.batch_alter_table("tasks", schema=None, recreate="always") as batch_op:
        batch_op.drop_constraint("ck_tasks_type", type_="check")
        batch_op.create_check_constraint(
            "ck_tasks_type", "type IN ('generate', 'design_preview', 'transcribe')"
        )
    with op.batch_alter_table("voices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("warnings", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("voices", schema=None) as batch_op:
        batch_op.drop_column("warnings")
    with op.batch_alter_table("tasks", schema=None, recreate="always") as batch_op:
        batch_op.drop_constraint("ck_tasks_type", type_="check")
        batch_op.create_check_constraint("ck_tasks_type", "type IN ('generate', 'design_preview')")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_api_keys_user_created")

    op.drop_table("api_keys")
