"""Settings for the API server. The only module that reads the environment."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from vocalis.api.cors import parse_origins


class Settings(BaseSettings):
    """Built once at the entry point (CLI or test) and passed down; never a module global."""

    model_config = SettingsConfigDict(env_prefix="VOCALIS_", extra="ignore")

    data_dir: Path = Path("vocalis-data")
    host: str = "127.0.0.1"
    port: int = 8000
    # Base URL the API is reachable at, used for signed URLs handed to workers.
    public_url: str | None = None

    database_url: str | None = None  # default: SQLite file in data_dir
    storage_url: str | None = None  # default: {data_dir}/storage; s3://bucket/prefix for S3
    s3_endpoint_url: str | None = None
    s3_region: str | None = None

    jwt_secret: SecretStr | None = None  # default: generated once and kept in data_dir
    access_token_seconds: int = 3600
    refresh_token_days: int = 30
    # A rotated refresh token presented again this soon continues its session instead of
    # counting as theft: a tab reloaded mid-refresh never stored the new one (GoTrue's 10 s).
    refresh_token_reuse_seconds: float = 10.0
    cookie_secure: bool = False
    signed_url_seconds: int = 3600

    worker_url: str | None = None  # unset: `vocalis serve` starts a local worker
    # The embedded worker's engine (`vocalis serve --engine`): local, qwen, tone, or auto.
    engine: str = "local"
    worker_token: SecretStr | None = None
    # Bounded waits on the worker: a worker that accepts connections and never answers costs a
    # request at most connect + the call's own timeout.
    worker_connect_timeout_seconds: float = 3.0
    worker_timeout_seconds: float = 5.0  # status, cancel, health, forget
    worker_submit_timeout_seconds: float = 10.0
    worker_download_timeout_seconds: float = 60.0  # between bytes of a result download
    task_timeout_seconds: float = 1800.0
    reconcile_interval_seconds: float = 5.0
    max_active_tasks: int = 4
    # How references reach the worker: "auto" sends a signed URL when it is absolute (S3, or
    # local storage with public_url set), else the audio inline; "inline" always inlines.
    reference_transfer: Literal["auto", "inline"] = "auto"
    # Status-check errors fail a task only once there were this many in a row AND they lasted
    # this long: a worker restart (seconds) is ridden out however often the task is polled.
    status_error_limit: int = 5
    status_error_grace_seconds: float = 60.0
    finalize_lease_seconds: float = 120.0
    # Polls of one task closer together than 1/rate after its last status check are answered
    # from the database without a worker call (0: every poll checks).
    poll_rate_per_second: float = 4.0
    # POST /v1/audio/speech waits this long for the first audio, then answers 504 with the task.
    speech_wait_seconds: float = 300.0

    # Limits (429 with Retry-After; 413 for sizes)
    password_min_length: int = 8
    login_max_failures: int = 10  # failed sign-ins per email within the window lock it
    login_failure_window_seconds: float = 900.0
    login_lockout_seconds: float = 900.0
    auth_rate_per_minute: int = 30  # sign-in, sign-up and refresh per client address
    create_rate_per_minute: int = 60  # generate, design preview, clone, upload URLs per user
    # Peers whose X-Forwarded-For is believed (comma-separated addresses or CIDRs).
    trusted_proxies: str = ""
    max_json_bytes: int = 1024 * 1024
    max_pending_uploads: int = 5  # outstanding direct-upload URLs per user
    upload_ttl_seconds: float = 3600.0
    preview_ttl_seconds: float = 86400.0  # unsaved design previews
    task_retention_days: float = 30.0  # finished task rows (generations keep their history)
    sweep_interval_seconds: float = 300.0  # the storage sweeper (0: off)
    user_quota_mb: int = 2048  # stored references + generated audio per user

    max_upload_bytes: int = 50 * 1024 * 1024
    # References are stored at this rate whatever the engine (each worker decodes to its own),
    # so cloning never waits on a worker.
    reference_sample_rate: int = 24000
    reference_min_seconds: float = 1.0
    reference_max_seconds: float = 300.0

    serve_web: bool = Field(default=True, description="serve the web app at /")
    # Origins whose pages may call the API from a browser (comma-separated scheme://host[:port],
    # or * for any). Empty: the same origin only. See cors.py.
    cors_origins: str = ""

    @field_validator("cors_origins")
    @classmethod
    def _check_cors_origins(cls, value: str) -> str:
        parse_origins(value)  # a malformed list fails at startup, not at the first request
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'vocalis.db').resolve()}"

    @property
    def resolved_storage_url(self) -> str:
        if self.storage_url:
            return self.storage_url
        return f"file://{(self.data_dir / 'storage').resolve()}"

    @property
    def scratch_dir(self) -> Path:
        """Where uploads and results pass through on their way to storage."""
        return self.data_dir / "tmp"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    def jwt_secret_value(self) -> str:
        """The configured secret, or one generated once and kept (0600) in the data dir."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        path = self.data_dir / "jwt_secret"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48))
        return path.read_text().strip()
