"""Settings for the API server. The only module that reads the environment."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    cookie_secure: bool = False
    signed_url_seconds: int = 3600

    worker_url: str | None = None  # unset: `vocalis serve` starts a local worker
    worker_token: SecretStr | None = None
    worker_timeout_seconds: float = 10.0
    task_timeout_seconds: float = 1800.0
    reconcile_interval_seconds: float = 5.0
    max_active_tasks: int = 4
    # How references reach the worker: "auto" sends a signed URL when it is absolute (S3, or
    # local storage with public_url set), else the audio inline; "inline" always inlines.
    reference_transfer: Literal["auto", "inline"] = "auto"
    status_error_limit: int = 5
    finalize_lease_seconds: float = 120.0

    max_upload_bytes: int = 50 * 1024 * 1024
    reference_sample_rate: int = 24000
    reference_min_seconds: float = 1.0
    reference_max_seconds: float = 300.0

    serve_web: bool = Field(default=True, description="serve the web app at /")

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
