"""Unauthenticated service facts: health and languages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from vocalis.api.deps import WorkerDep
from vocalis.protocol import DEFAULT_LANGUAGE, LANGUAGES

router = APIRouter(prefix="/api", tags=["meta"])


@router.get("/health")
async def health() -> dict[str, bool]:
    """Liveness: the process answers."""
    return {"ok": True}


@router.get("/languages")
async def languages(worker: WorkerDep) -> dict[str, Any]:
    """Supported languages and the synthesis engine behind them."""
    health = await worker.engine_info()
    return {
        "languages": list(LANGUAGES),
        "default": DEFAULT_LANGUAGE,
        "provider": health.engine if health else None,
        # The worker's synthesisers and the languages each speaks (the local engine's bases);
        # a generation picks one with `base`.
        "bases": health.bases if health else {},
        "transcription": {
            "enabled": False,
            "reason": "Automatic transcription is not available; type what the recording says.",
        },
    }
