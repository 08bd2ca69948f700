"""Whether a clone's typed transcript matches its reference recording (issue 13).

For an engine that conditions on the transcript word for word, a transcript that does not match
its reference is dropped and the voice cloned from the audio alone (speaker embedding), rather
than degenerate. Verdicts are remembered per (reference digest, transcript); a failed check
never fails the synthesis: the transcript is then used as given.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace
from pathlib import Path

from vocalis.protocol import ReferenceWarning
from vocalis.worker.execution import Work
from vocalis.worker.transcribing import TranscriptionExecutor

log = logging.getLogger(__name__)

VERDICTS = 256  # checks remembered
MISMATCH_NOTICE = ReferenceWarning(
    code="transcript_mismatch",
    message="The transcript does not match what is said in the reference, so the voice was "
    "cloned from the recording alone (speaker embedding), without the transcript.",
)


class TranscriptCheck:
    def __init__(self, transcription: TranscriptionExecutor) -> None:
        self.transcription = transcription
        self._verdicts: dict[tuple[str, str], bool] = {}

    async def checked(
        self, work: Work, exact_transcript: bool
    ) -> tuple[Work, list[ReferenceWarning] | None]:
        """`work` as it should run (without its transcript if that does not match), and the
        warning that says so."""
        if not (
            work.kind == "clone"
            and work.ref_text
            and work.ref_audio_path
            and exact_transcript
            and self.transcription.info.enabled
        ):
            return work, None
        key = (_file_digest(Path(work.ref_audio_path)), work.ref_text)
        matches = self._verdicts.get(key)
        if matches is None:
            try:
                matches = await self.transcription.transcript_matches(
                    Path(work.ref_audio_path), work.ref_text, work.language
                )
            except Exception:  # noqa: BLE001 - a failed check must not fail the synthesis
                log.exception("the transcript check failed; the transcript is used as given")
                return work, None
            self._verdicts[key] = matches
            while len(self._verdicts) > VERDICTS:
                self._verdicts.pop(next(iter(self._verdicts)))
        if matches:
            return work, None
        return replace(work, ref_text=None), [MISMATCH_NOTICE]


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
