"""Settings for the synthesis worker. The only worker module that reads the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class WorkerSettings(BaseSettings):
    """Built once at the entry point (CLI, Modal app or test) and passed down; never global.

    VOCALIS_WORKER_TOKEN is `token`, the same variable the API reads as its worker token.
    """

    model_config = SettingsConfigDict(env_prefix="VOCALIS_WORKER_", extra="ignore")

    token: SecretStr | None = None  # None: no auth (refused by `run` unless bound to loopback)
    engine: str = "local"
    engine_options: dict[str, Any] = Field(default_factory=dict)  # load_engine(engine, **these)
    host: str = "127.0.0.1"
    port: int = 8001

    capacity: int = Field(default=32, ge=1)  # queued + running jobs; one more is a 429
    # None: one synthesis per core with processes, one at a time with threads (GPU engines).
    concurrency: int | None = Field(default=None, ge=1)
    # "process": each synthesis slot is a spawned process (libespeak-ng has global state, and
    # a stuck job can be killed); "thread": the engine runs in this process (GPU engines, which
    # must not be forked and load their weights once). "auto": process for `local`.
    execution: Literal["auto", "process", "thread"] = "auto"
    cancel_grace_seconds: float = Field(default=5.0, ge=0)  # then a stuck process is killed
    engine_start_timeout_seconds: float = Field(default=300.0, gt=0)

    # Integrated loudness every job's output is brought to, unless it asks for the reference's
    # level (options.loudness = "reference") or another target (options.output_lufs).
    output_lufs: float = Field(default=-16.0, ge=-40.0, le=-8.0)
    retention_seconds: float = Field(default=86_400.0, gt=0)
    max_ref_bytes: int = Field(default=50 * 1024 * 1024, ge=1)
    fetch_timeout_seconds: float = Field(default=60.0, gt=0)
    # `transcribe` jobs (and the transcript check for engines that need an exact one) when the
    # `transcription` extra is installed; the model is assembled once into models_dir
    # (default: {results_dir}/models, kept across restarts; else a temporary folder).
    transcription: bool = True
    transcription_threads: int = Field(default=1, ge=1)
    models_dir: Path | None = None
    # None: a fresh temporary directory, removed at shutdown. Given: jobs live under
    # {results_dir}/jobs, which is emptied at startup since a restart forgets every job.
    results_dir: Path | None = None
