"""hardening and streaming: limits, lockouts, reservations, quota, status-error grace,
segment progress

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 12:12:15.765447
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("email"),
    )
    op.create_table(
        "rate_windows",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("window", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window"),
    )
    with op.batch_alter_table("rate_windows", schema=None) as batch_op:
        batch_op.create_index("ix_rate_windows_window", ["window"], unique=False)

    op.create_table(
        "upload_reservations",
        sa.Column("voice_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("object_key", sa.String(length=512), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("voice_id"),
    )
    with op.batch_alter_table("upload_reservations", schema=None) as batch_op:
        batch_op.create_index("ix_upload_reservations_expires", ["expires_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_upload_reservations_user_id"), ["user_id"], unique=False
        )

    with op.batch_alter_table("generations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audio_bytes", sa.BigInteger(), nullable=True))

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status_error_since", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("segments_ready", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("audio_seconds_ready", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("remaining_seconds", sa.Float(), nullable=True))

    with op.batch_alter_table("voices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reference_bytes", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("voices", schema=None) as batch_op:
        batch_op.drop_column("reference_bytes")

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("remaining_seconds")
        batch_op.drop_column("audio_seconds_ready")
        batch_op.drop_column("segments_ready")
        batch_op.drop_column("status_error_since")

    with op.batch_alter_table("generations", schema=None) as batch_op:
        batch_op.drop_column("audio_bytes")

    with op.batch_alter_table("upload_reservations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_upload_reservations_user_id"))
        batch_op.drop_index("ix_upload_reservations_expires")

    op.drop_table("upload_reservations")
    with op.batch_alter_table("rate_windows", schema=None) as batch_op:
        batch_op.drop_index("ix_rate_windows_window")

    op.drop_table("rate_windows")
    op.drop_table("login_failures")
