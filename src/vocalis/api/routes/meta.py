"""Unauthenticated service facts: health and languages."""

from __future__ import annotations

from fastapi import APIRouter

from vocalis.api.deps import WorkerDep
from vocalis.api.schemas import LanguagesOut, OkOut
from vocalis.protocol import DEFAULT_LANGUAGE, LANGUAGES, TranscriptionInfo

router = APIRouter(prefix="/api", tags=["meta"])


@router.get("/health")
async def health() -> OkOut:
    """Liveness: the process answers."""
    return OkOut()


@router.get("/languages")
async def languages(worker: WorkerDep) -> LanguagesOut:
    """Supported languages and the synthesis engine behind them."""
    health = await worker.engine_info()
    transcription = (
        health.transcription
        if health is not None
        else TranscriptionInfo(reason="The synthesis worker is not answering.")
    )
    return LanguagesOut(
        languages=list(LANGUAGES),
        default=DEFAULT_LANGUAGE,
        provider=health.engine if health is not None else None,
        bases=health.bases if health is not None else {},
        transcription=transcription.model_dump(),
    )
