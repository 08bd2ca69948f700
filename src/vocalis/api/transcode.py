"""Encoding stored or streaming WAV audio into the formats clients ask for, chunk by chunk.

PyAV (FFmpeg inside the wheel) writes into a sink that hands back whatever bytes each chunk
produced, so a response streams as it is encoded and nothing is built whole in memory. WAV is
written by hand (a streamed WAV cannot know its length: its header says "unknown", as
streaming servers do); `pcm` is raw 16-bit little-endian mono, as OpenAI documents it.
"""

from __future__ import annotations

import io
import re
import struct
import wave
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import numpy as np

from vocalis.api.storage import Storage
from vocalis.api.uploads import scratch_dir

CHUNK_FRAMES = 24_000  # read stored WAV files a second (at 24 kHz) at a time


@dataclass(frozen=True)
class Format:
    name: str
    content_type: str
    extension: str
    container: str | None = None  # PyAV container; None: written by hand
    codec: str | None = None
    sample_rate: int | None = None  # forced output rate (None: the input's)


FORMATS: dict[str, Format] = {
    "wav": Format("wav", "audio/wav", "wav"),
    "pcm": Format("pcm", "audio/pcm", "pcm", sample_rate=24_000),
    "mp3": Format("mp3", "audio/mpeg", "mp3", "mp3", "libmp3lame"),
    "opus": Format("opus", "audio/ogg", "opus", "ogg", "libopus", sample_rate=48_000),
    "flac": Format("flac", "audio/flac", "flac", "flac", "flac"),
    "aac": Format("aac", "audio/aac", "aac", "adts", "aac"),
}


class _Sink(io.RawIOBase):
    """A write-only, non-seekable file: the encoder's output, collected until taken."""

    def __init__(self) -> None:
        self._pending = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._pending += bytes(data)
        return len(data)

    def take(self) -> bytes:
        out = bytes(self._pending)
        self._pending.clear()
        return out


def streaming_wav_header(sample_rate: int) -> bytes:
    """A mono 16-bit WAV header whose sizes say "unknown" (0xFFFFFFFF): the data follows as
    it is made."""
    unknown = 0xFFFFFFFF
    return (
        b"RIFF"
        + struct.pack("<I", unknown)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, sample_rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", unknown)
    )


class Encoder:
    """Feed int16 mono PCM at `sample_rate`; get the encoded bytes each feed produced."""

    def __init__(self, fmt: Format, sample_rate: int) -> None:
        self.format = fmt
        self.in_rate = sample_rate
        self.out_rate = fmt.sample_rate or sample_rate
        self._started = False
        self._resampler: Any = None
        self._container: Any = None
        if fmt.container is not None or self.out_rate != sample_rate:
            import av

            self._av = av
            self._resampler = av.AudioResampler(format="s16", layout="mono", rate=self.out_rate)
        if fmt.container is not None:
            self._sink = _Sink()
            options = {"write_xing": "0"} if fmt.container == "mp3" else {}
            self._container = self._av.open(
                self._sink, mode="w", format=fmt.container, options=options
            )
            self._stream = self._container.add_stream(fmt.codec, rate=self.out_rate)
            self._stream.layout = "mono"

    def feed(self, pcm: np.ndarray) -> bytes:
        head = b""
        if not self._started:
            self._started = True
            if self.format.name == "wav":
                head = streaming_wav_header(self.out_rate)
        if self._container is None:
            return head + self._resampled(pcm).astype("<i2").tobytes()
        frame = self._frame(pcm)
        for resampled in self._resampler.resample(frame):
            for packet in self._stream.encode(resampled):
                self._container.mux(packet)
        return head + self._sink.take()

    def finish(self) -> bytes:
        if self._container is None:
            head = b"" if self._started else self.feed(_EMPTY)
            if self._resampler is None:
                return head
            tail = [f.to_ndarray().reshape(-1) for f in self._resampler.resample(None)]
            return head + b"".join(t.astype("<i2").tobytes() for t in tail)
        if not self._started:
            self._started = True
        for resampled in self._resampler.resample(None):
            for packet in self._stream.encode(resampled):
                self._container.mux(packet)
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        return self._sink.take()

    def _frame(self, pcm: np.ndarray) -> Any:
        frame = self._av.AudioFrame.from_ndarray(
            np.ascontiguousarray(pcm, dtype=np.int16).reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = self.in_rate
        return frame

    def _resampled(self, pcm: np.ndarray) -> np.ndarray:
        if self._resampler is None:
            return pcm
        out = [f.to_ndarray().reshape(-1) for f in self._resampler.resample(self._frame(pcm))]
        return np.concatenate(out) if out else _EMPTY


_EMPTY = np.zeros(0, dtype=np.int16)


def wav_chunks(path: Path, start_frame: int = 0) -> Iterator[tuple[int, np.ndarray]]:
    """(sample rate, int16 mono samples) a second at a time from a 16-bit mono WAV file,
    starting `start_frame` samples in."""
    with wave.open(str(path), "rb") as wav:
        rate = wav.getframerate()
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise ValueError("expected 16-bit mono WAV")
        wav.setpos(min(start_frame, wav.getnframes()))
        while frames := wav.readframes(CHUNK_FRAMES):
            yield rate, np.frombuffer(frames, dtype="<i2")


async def encode_file(path: Path, fmt: Format) -> AsyncIterator[bytes]:
    """A stored WAV file in `fmt`, encoded in a worker thread a second at a time."""
    chunks = wav_chunks(path)
    encoder: Encoder | None = None
    done = False

    def step() -> bytes:
        nonlocal encoder, done
        item = next(chunks, None)
        if item is None:
            done = True
            return encoder.finish() if encoder is not None else b""
        rate, pcm = item
        encoder = encoder or Encoder(fmt, rate)
        return encoder.feed(pcm)

    while not done:
        data = await anyio.to_thread.run_sync(step)
        if data:
            yield data


async def encode_stored(
    storage: Storage, key: str, fmt: Format, scratch: Path
) -> AsyncIterator[bytes]:
    """A stored WAV object in `fmt`: copied to a scratch file (removed afterwards), then
    encoded as it streams out."""
    async with scratch_dir(scratch) as tmp:
        await storage.get_to_file(key, tmp / "audio.wav")
        async for data in encode_file(tmp / "audio.wav", fmt):
            yield data


def download_name(voice_name: str | None, when: datetime, fmt: Format) -> str:
    """`<voice>-<date>.<ext>`, kept to characters every filesystem and header accepts."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", (voice_name or "speech").strip()).strip("-")
    return f"{stem or 'speech'}-{when:%Y-%m-%d}.{fmt.extension}"
