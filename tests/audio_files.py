"""Real audio files for tests, made at test time: a voiced, speech-like signal (a harmonic tone
with a moving pitch and syllable-rate amplitude modulation), written as WAV or encoded by
PyAV's own FFmpeg into MP3, M4A/AAC, ADTS AAC, FLAC, OGG/Opus and WebM/Opus."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import BinaryIO

import numpy as np

# fmt -> (FFmpeg muxer, encoder, default sample rate); every encoder here is in PyAV's wheel.
ENCODINGS: dict[str, tuple[str, str, int]] = {
    "wav": ("wav", "pcm_s16le", 44100),
    "mp3": ("mp3", "libmp3lame", 44100),
    "m4a": ("ipod", "aac", 44100),
    "aac": ("adts", "aac", 44100),
    "flac": ("flac", "flac", 44100),
    "ogg": ("ogg", "libopus", 48000),
    "webm": ("webm", "libopus", 48000),
}

BLOCK_SECONDS = 10.0  # long files are written block by block, so making them stays cheap


def voiced(
    seconds: float,
    rate: int = 24000,
    *,
    channels: int = 1,
    level: float = 0.25,
    start: float = 0.0,
) -> np.ndarray:
    """float32 (samples, channels) in [-1, 1] of the signal from `start` s on.

    The phase has a closed form, so consecutive blocks join without a click.
    """
    t = start + np.arange(round(seconds * rate)) / rate
    f0, vibrato, vibrato_hz = 140.0, 0.08, 0.7
    # The integral of the instantaneous pitch f0 * (1 + vibrato * sin(2 pi vibrato_hz t)).
    swing = vibrato / (2 * np.pi * vibrato_hz) * np.cos(2 * np.pi * vibrato_hz * t)
    phase = 2 * np.pi * f0 * (t - swing)
    signal = sum(np.sin(k * phase) / k for k in range(1, 10))
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * 4.0 * t)  # about 4 syllables a second
    mono = (level * signal * envelope).astype(np.float32)
    return np.repeat(mono[:, None], channels, axis=1)


def _blocks(seconds: float) -> list[tuple[float, float]]:
    """(start, length) of each block of a `seconds`-long file."""
    starts = np.arange(0.0, seconds, BLOCK_SECONDS)
    return [(float(s), float(min(BLOCK_SECONDS, seconds - s))) for s in starts]


def make_wav(
    path: Path,
    seconds: float = 2.0,
    rate: int = 24000,
    channels: int = 1,
    silent: bool = False,
    level: float = 0.25,
) -> Path:
    """A 16-bit PCM WAV of the voiced signal (zeros when `silent`); returns `path`."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        for start, length in _blocks(seconds):
            block = voiced(length, rate, channels=channels, level=level, start=start)
            if silent:
                block[:] = 0
            out.writeframes((np.clip(block, -1, 1) * 32767).astype("<i2").tobytes())
    return path


class _Pipe:
    """A write-only, unseekable sink: the muxer cannot go back to fill in the duration."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f

    def write(self, data: bytes) -> int:
        return self._f.write(data)


def make_encoded(
    path: Path,
    fmt: str,
    seconds: float = 2.0,
    channels: int = 1,
    rate: int | None = None,
    streamed: bool = False,
) -> Path:
    """The voiced signal encoded by PyAV as `fmt` (a key of ENCODINGS); returns `path`.

    `streamed` writes it as a browser's MediaRecorder does, with no duration in the header
    (webm and ogg only; MP4 muxing needs to seek).
    """
    import av

    muxer, codec, default_rate = ENCODINGS[fmt]
    rate = rate or default_rate
    layout = "mono" if channels == 1 else "stereo"
    with path.open("wb") as f, av.open(_Pipe(f) if streamed else f, "w", format=muxer) as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        assert isinstance(stream, av.AudioStream)
        for start, length in _blocks(seconds):
            pcm = (voiced(length, rate, channels=channels, start=start) * 32767).astype(np.int16)
            # Packed s16 in any block size: PyAV converts it to what the encoder takes.
            frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout=layout)
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path
