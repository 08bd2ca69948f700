"""The numpy Resemblyzer port: it refuses code in checkpoints and tells real speakers apart."""

from __future__ import annotations

import os
import pickle
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from bench.speaker import VoiceEncoder, cosine, load_state_dict

from bench import downloads


class _Payload:
    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (os.getcwd, ())


def test_checkpoint_loader_refuses_arbitrary_globals(tmp_path: Path) -> None:
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps(_Payload(), protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        load_state_dict(path)


@pytest.fixture(scope="module")
def encoder_and_references() -> tuple[VoiceEncoder, list[downloads.Reference]]:
    cache = downloads.default_cache_dir()
    try:
        weights = downloads.resemblyzer_weights(cache)
        references = downloads.pyannote_references(cache)
    except subprocess.CalledProcessError:
        pytest.skip("cannot download the resemblyzer and pyannote.audio wheels")
    return VoiceEncoder(weights), references


def _embed(encoder: VoiceEncoder, path: Path) -> np.ndarray:
    audio, rate = sf.read(path, dtype="float32")
    return encoder.embed(audio, rate)


@pytest.mark.slow
def test_embeddings_are_unit_norm_and_separate_speakers(
    encoder_and_references: tuple[VoiceEncoder, list[downloads.Reference]],
) -> None:
    encoder, references = encoder_and_references
    by_speaker: dict[str, list[np.ndarray]] = {}
    for ref in references:
        by_speaker.setdefault(ref.speaker, []).append(_embed(encoder, ref.path))
    alsa = downloads.alsa_references()[:2]
    if alsa:
        by_speaker["alsa"] = [_embed(encoder, ref.path) for ref in alsa]
    assert len(by_speaker) >= 2 and all(len(e) == 2 for e in by_speaker.values())

    for embeds in by_speaker.values():
        for e in embeds:
            assert e.shape == (256,)
            assert abs(float(np.linalg.norm(e)) - 1.0) < 1e-5
    speakers = list(by_speaker)
    for i, a in enumerate(speakers):
        same = cosine(*by_speaker[a])
        for b in speakers[i + 1 :]:
            for ea in by_speaker[a]:
                for eb in by_speaker[b]:
                    assert same > cosine(ea, eb), (a, b)
