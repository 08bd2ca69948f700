"""Which engine `vocalis serve` runs its embedded worker with, and whether it can.

`auto` picks qwen when a CUDA GPU, the `qwen` extra and the pulled weights are all present, and
the offline `local` engine otherwise. An engine that cannot run here is refused before anything
starts, with what is missing and the command that fixes it (instead of a worker that fails on
its first job).
"""

from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vocalis.worker.engines import ENGINES


class EngineUnavailable(RuntimeError):
    """The chosen engine cannot run here; the message says what is missing."""


@dataclass(frozen=True)
class EngineChoice:
    name: str
    options: dict[str, Any] = field(default_factory=dict)  # the engine's constructor options
    why: str = ""

    @property
    def describe(self) -> str:
        return f"`{self.name}` engine" + (f", {self.why}" if self.why else "")


def models_dir(data_dir: Path) -> Path:
    """Where `vocalis models pull` puts weights (the only command that downloads)."""
    return data_dir / "models"


def voice_cache_dir(data_dir: Path) -> Path:
    """Where the local engine keeps each voice's analysis and fitted Kokoro style, so a voice
    pays its style fit (~a minute of CPU) once, not once per worker process and restart."""
    return data_dir / "voice-cache"


def choose_engine(requested: str, data_dir: Path) -> EngineChoice:
    # Options given for the worker in the environment (VOCALIS_WORKER_ENGINE_OPTIONS, JSON)
    # are the user's; ours fill in only what they leave out.
    given: dict[str, Any] = json.loads(os.environ.get("VOCALIS_WORKER_ENGINE_OPTIONS") or "{}")
    if requested == "auto":
        problem = _qwen_problem(data_dir, need_gpu=True)
        if problem is None:
            return EngineChoice("qwen", {**_qwen_options(data_dir), **given}, "auto: GPU found")
        why = f"offline; auto did not pick qwen: {problem}"
        return EngineChoice("local", _local_options(data_dir, given), why)
    if requested not in ENGINES:
        raise EngineUnavailable(f"unknown engine {requested!r}; one of {', '.join(ENGINES)}, auto")
    if requested == "qwen":
        problem = _qwen_problem(data_dir, need_gpu=False)
        if problem is not None:
            raise EngineUnavailable(f"the qwen engine cannot start: {problem}")
        return EngineChoice("qwen", {**_qwen_options(data_dir), **given})
    if requested == "local":
        return EngineChoice("local", _local_options(data_dir, given), "offline")
    return EngineChoice(requested, given)


def _local_options(data_dir: Path, given: dict[str, Any]) -> dict[str, Any]:
    return {"cache_dir": str(voice_cache_dir(data_dir)), **given}


def _qwen_options(data_dir: Path) -> dict[str, Any]:
    from vocalis.models import QWEN_MODELS

    root = models_dir(data_dir)
    return {option: str(root / spec.folder) for option, spec in QWEN_MODELS.items()}


def _qwen_problem(data_dir: Path, *, need_gpu: bool) -> str | None:
    """None when qwen can run here; else what is missing and how to get it."""
    if importlib.util.find_spec("qwen_tts") is None or importlib.util.find_spec("torch") is None:
        return "the qwen extra is not installed (pip install -e '.[qwen]')"
    from vocalis.models import QWEN_MODELS, is_pulled

    missing = [
        spec.repo for spec in QWEN_MODELS.values() if not is_pulled(models_dir(data_dir), spec)
    ]
    if missing:
        return f"its weights are not here ({', '.join(missing)}): run `vocalis models pull qwen`"
    if need_gpu:
        import torch

        if not torch.cuda.is_available():
            return "no CUDA GPU (the qwen engine on a CPU is far slower than real time)"
    return None
