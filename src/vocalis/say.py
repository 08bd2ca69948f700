"""`vocalis say`: one synthesis straight through an engine, no server — for trying engines."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def say(
    *,
    text: str,
    out: Path,
    reference: Path | None,
    transcript: str | None,
    instruct: str | None,
    language: str,
    engine_name: str,
) -> None:
    from vocalis.audio import write_wav
    from vocalis.worker.engines import load_engine
    from vocalis.worker.engines.base import SynthesisRequest, synthesize_whole

    if reference is not None and not transcript:
        raise SystemExit("--transcript is required with --reference (the words it speaks)")
    if reference is None and not instruct:
        instruct = "a neutral adult voice"
    engine = load_engine(engine_name)
    request = SynthesisRequest(
        kind="clone" if reference is not None else "design",
        text=text,
        language=language,
        ref_audio_path=reference,
        ref_text=transcript,
        instruct=instruct,
    )

    def progress(fraction: float) -> None:
        print(f"\r{fraction:4.0%}", end="", file=sys.stderr, flush=True)

    audio = synthesize_whole(engine, request, progress)
    print(file=sys.stderr)
    write_wav(out, audio, engine.sample_rate)


@dataclass(frozen=True)
class StudioVoice:
    reference: Path
    transcript: str
    language: str


async def studio_voice(db: Any, settings: Any, email: str, wanted: str, into: Path) -> StudioVoice:
    """A user's voice (by name, any case, or id) with its reference copied into `into`."""
    from sqlalchemy import func, select

    from vocalis.api.models import User, Voice
    from vocalis.api.storage import create_storage

    async with db.sessions() as session:
        voice = await session.scalar(
            select(Voice)
            .join(User, User.id == Voice.user_id)
            .where(User.email == email.strip().lower())
            .where((Voice.id == wanted) | (func.lower(Voice.name) == wanted.strip().lower()))
            .order_by(Voice.created_at.desc())
            .limit(1)
        )
    if voice is None or not voice.reference_object_key:
        raise LookupError(f"{email} has no voice {wanted!r} with a reference recording")
    path = into / "reference.wav"
    await create_storage(settings).get_to_file(voice.reference_object_key, path)
    return StudioVoice(path, voice.reference_transcript or "", voice.language)
