"""Tables (SQLAlchemy 2.0 typed). Status columns mirror their enums with CHECK constraints."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on both databases (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class TaskStatus(enum.StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_STATUSES = (TaskStatus.PENDING, TaskStatus.PROCESSING)
TERMINAL_STATUSES = (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED)


class TaskType(enum.StrEnum):
    GENERATE = "generate"
    DESIGN_PREVIEW = "design_preview"
    TRANSCRIBE = "transcribe"  # a recording's words and the reference checks


class VoiceSource(enum.StrEnum):
    UPLOADED = "uploaded"
    DESIGNED = "designed"


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RefreshToken(Base):
    """One row per issued refresh token; a family is one sign-in session (`session_id`)."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("ix_refresh_tokens_session", "session_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str] = mapped_column(String(36))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    # When a refresh spent it (revoked by rotation, not by sign-out): the reuse interval's start.
    rotated_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class Profile(Base):
    __tablename__ = "profiles"

    id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    handle: Mapped[str | None] = mapped_column(String(30), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(100))
    avatar_url: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Voice(Base):
    __tablename__ = "voices"
    __table_args__ = (
        CheckConstraint(_in("source", VoiceSource), name="ck_voices_source"),
        Index("ix_voices_user_created", "user_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    reference_transcript: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20), default=VoiceSource.UPLOADED.value)
    description: Mapped[str | None] = mapped_column(Text)
    reference_object_key: Mapped[str | None] = mapped_column(String(512))
    reference_bytes: Mapped[int | None] = mapped_column(BigInteger)  # counts toward the quota
    # What the reference checks found ([{code, message}]); null until a check has run.
    warnings: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Generation(Base):
    __tablename__ = "generations"
    __table_args__ = (
        CheckConstraint(_in("status", TaskStatus), name="ck_generations_status"),
        Index("ix_generations_user_created", "user_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    voice_id: Mapped[str | None] = mapped_column(
        ForeignKey("voices.id", ondelete="SET NULL"), index=True
    )
    # Kept so history still names the voice after it is deleted.
    voice_name: Mapped[str | None] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=TaskStatus.PROCESSING.value)
    audio_object_key: Mapped[str | None] = mapped_column(String(512))
    audio_bytes: Mapped[int | None] = mapped_column(BigInteger)  # counts toward the quota
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    generation_time_seconds: Mapped[float | None] = mapped_column(Float)
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint(_in("status", TaskStatus), name="ck_tasks_status"),
        CheckConstraint(_in("type", TaskType), name="ck_tasks_type"),
        Index("ix_tasks_user_created", "user_id", "created_at"),
        Index("ix_tasks_user_status", "user_id", "status"),
        # The reconciler scans non-terminal tasks by when they were last looked at.
        Index("ix_tasks_status_checked", "status", "last_checked_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=TaskStatus.PENDING.value)
    generation_id: Mapped[str | None] = mapped_column(
        ForeignKey("generations.id", ondelete="SET NULL"), index=True
    )
    # What the worker needs to (re)submit the job: text, language, voice reference key, …
    job_request: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    job_id: Mapped[str | None] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # job submissions made
    status_errors: Mapped[int] = mapped_column(Integer, default=0)  # consecutive failed checks
    status_error_since: Mapped[datetime | None]  # when the current run of failed checks began
    poll_count: Mapped[int] = mapped_column(Integer, default=0)
    modal_status: Mapped[str | None] = mapped_column(String(32))
    modal_elapsed_seconds: Mapped[float | None] = mapped_column(Float)
    progress: Mapped[float | None] = mapped_column(Float)
    # Streaming: finished segments the worker holds, their seconds of audio, and the time left
    # as estimated from the job's own rate (None from a worker without segments).
    segments_ready: Mapped[int | None] = mapped_column(Integer)
    audio_seconds_ready: Mapped[float | None] = mapped_column(Float)
    remaining_seconds: Mapped[float | None] = mapped_column(Float)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    task_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    # Finalization lease: whoever sets lease_until (conditionally) downloads and stores audio.
    lease_owner: Mapped[str | None] = mapped_column(String(36))
    lease_until: Mapped[datetime | None]
    deadline_at: Mapped[datetime]
    last_checked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]


class LoginFailures(Base):
    """Failed sign-ins per email (known or not, so the limit reveals nothing): enough of them
    within a window lock the email for a cooldown. In the database, so every replica agrees."""

    __tablename__ = "login_failures"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_started_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]


class RateWindow(Base):
    """A fixed-window request counter (`key` is e.g. "auth:<address>" or "create:<user id>",
    `window` the epoch minute), shared by every replica through the database."""

    __tablename__ = "rate_windows"
    __table_args__ = (Index("ix_rate_windows_window", "window"),)

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(Integer)


class UploadReservation(Base):
    """A signed direct-upload URL handed out and not yet finalized (bounded per user; the
    sweeper removes expired ones and whatever was uploaded to them)."""

    __tablename__ = "upload_reservations"
    __table_args__ = (Index("ix_upload_reservations_expires", "expires_at"),)

    voice_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    object_key: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class ApiKey(Base):
    """A long-lived credential for programs: `Authorization: Bearer vk_…` acts as its owner.
    Only its SHA-256 is stored; the key itself is shown once, when it is created."""

    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_user_created", "user_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(
        String(16)
    )  # the key's first characters, to tell keys apart
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
