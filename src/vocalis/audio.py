"""Decoding and normalizing audio: the one place that touches codecs.

PyAV ships FFmpeg inside its wheel, so no system ffmpeg is needed. Uploads are untrusted: the
container is identified from magic bytes and FFmpeg is then held to that one demuxer (no
probing, no protocols, no playlists that open other files); decoding streams frame by frame so a
50 MB upload is never read into memory; and a failure leaves no output behind.
Imports numpy and PyAV only, and lazily, since the API process uses it too.
"""

from __future__ import annotations

import contextlib
import io
import math
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

UNDECODABLE = (
    "Could not decode the audio file. Upload WAV, MP3, M4A/AAC, FLAC, OGG/Opus or WebM/Opus."
)
NO_AUDIO = "The file has no audio track."
SILENT = "The recording is silent."

# What sniff() names -> the FFmpeg demuxer that alone may read it.
DEMUXERS = {
    "wav": "wav",
    "mp3": "mp3",
    "mp4": "mov",  # mov,mp4,m4a,3gp: M4A/AAC and Safari's MediaRecorder output
    "flac": "flac",
    "ogg": "ogg",
    "webm": "matroska",  # matroska,webm: Chrome's and Firefox's MediaRecorder output
    "aac": "aac",  # raw ADTS
}

# "Silent" means a muted or dead input, not a quiet voice: digital zeros, a constant DC offset,
# hiss far below speech, or a lone click. So the level is measured per 20 ms window with the
# window's mean (DC) removed, and at least 100 ms of windows must reach -60 dBFS RMS; even quiet
# speech sits at -40 to -20 dBFS, while a muted mic's noise floor is -70 dBFS or lower.
WINDOW_SECONDS = 0.02
LOUD_RMS = 32768 * 10 ** (-60 / 20)  # -60 dBFS in 16-bit units
MIN_LOUD_SECONDS = 0.1


class AudioError(ValueError):
    """The audio cannot be used; the message is for a person."""


def sniff(path: Path) -> str | None:
    """The container named by the file's magic bytes (a key of DEMUXERS), or None."""
    with path.open("rb") as f:
        head = f.read(12)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:3] == b"ID3":
        return "mp3"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if len(head) < 3 or head[0] != 0xFF:
        return None
    if head[1] & 0xF6 == 0xF0:  # 12-bit sync, layer 00: ADTS
        return "aac"
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 3
    # An MPEG audio frame header with no reserved values in it.
    if head[1] & 0xE0 == 0xE0 and version != 1 and layer != 0 and bitrate != 15 and rate != 3:
        return "mp3"
    return None


@contextlib.contextmanager
def _opened(src: Path) -> Iterator[tuple[Any, Any]]:
    """(container, first audio stream) of a sniffed file; FFmpeg's errors become AudioError.

    Errors raised while the body decodes are translated too, so this is the codec boundary.
    """
    import av

    kind = sniff(src)
    if kind is None:
        raise AudioError(UNDECODABLE)
    # A file object, not a path string: FFmpeg never parses the name as a URL or protocol.
    # ValueError covers PyAV's own complaints about odd streams (bad metadata text, layouts).
    try:
        with src.open("rb") as f, av.open(f, mode="r", format=DEMUXERS[kind]) as container:
            if not container.streams.audio:
                raise AudioError(NO_AUDIO)
            yield container, container.streams.audio[0]
    except AudioError:
        raise
    except (av.FFmpegError, ValueError, EOFError) as exc:
        raise AudioError(UNDECODABLE) from exc


def _mono_s16(container: Any, stream: Any, sample_rate: int) -> Iterator[np.ndarray]:
    """The stream decoded to mono int16 chunks at `sample_rate` (downmixed and resampled)."""
    import av

    resampler = av.AudioResampler(format="s16", layout="mono", rate=sample_rate)
    for frame in container.decode(stream):
        for out in resampler.resample(frame):
            yield out.to_ndarray().reshape(-1)
    for out in resampler.resample(None):  # the resampler's buffered tail
        yield out.to_ndarray().reshape(-1)


class _Loudness:
    """Counts the DC-free 20 ms windows at or above LOUD_RMS, fed chunk by chunk."""

    def __init__(self, sample_rate: int) -> None:
        import numpy as np

        self.window = max(1, round(sample_rate * WINDOW_SECONDS))
        self.needed = max(1, round(MIN_LOUD_SECONDS / WINDOW_SECONDS))
        self.loud = 0
        self._rest = np.zeros(0, np.int16)

    def add(self, chunk: np.ndarray) -> None:
        import numpy as np

        if self.loud >= self.needed:
            return  # already known not to be silent
        pending = np.concatenate([self._rest, chunk])
        whole = len(pending) // self.window * self.window
        blocks = pending[:whole].reshape(-1, self.window).astype(np.float32)
        blocks -= blocks.mean(axis=1, keepdims=True)
        rms = np.sqrt(np.mean(blocks * blocks, axis=1))
        self.loud += int(np.count_nonzero(rms >= LOUD_RMS))
        self._rest = pending[whole:]

    @property
    def silent(self) -> bool:
        return self.loud < self.needed


def _too_long(container: Any, max_seconds: float) -> AudioError:
    # Decoding stops at the limit, so the true length is unknown; the container's declared
    # length is quoted when it agrees that the file is too long (it may be absent or wrong).
    declared = (container.duration or 0) / 1_000_000  # AV_TIME_BASE units
    length = f"{declared:.0f} s" if declared > max_seconds else f"over {max_seconds:g} s"
    return AudioError(f"The recording is too long ({length}); the limit is {max_seconds:g} s.")


def normalize_reference(
    src: Path,
    dst: Path,
    *,
    sample_rate: int = 24000,
    min_seconds: float = 1.0,
    max_seconds: float = 300.0,
) -> float:
    """Decode `src` to a mono 16-bit PCM WAV at `sample_rate` in `dst`; return its duration.

    Streams: memory stays flat whatever the input size. On any failure `dst` does not exist.
    """
    limit = int(max_seconds * sample_rate)
    frames = 0
    level = _Loudness(sample_rate)
    try:
        with _opened(src) as (container, stream), wave.open(str(dst), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(sample_rate)
            for chunk in _mono_s16(container, stream, sample_rate):
                frames += len(chunk)
                if frames > limit:
                    raise _too_long(container, max_seconds)
                level.add(chunk)
                out.writeframesraw(chunk.astype("<i2", copy=False).tobytes())
        seconds = frames / sample_rate
        if frames == 0:
            raise AudioError(UNDECODABLE)
        if seconds < min_seconds:
            shown = math.floor(seconds * 10) / 10  # never "too short (1.0 s)" against 1 s
            raise AudioError(
                f"The recording is too short ({shown:.1f} s); "
                f"it must be at least {min_seconds:g} s."
            )
        if level.silent:
            raise AudioError(SILENT)
    except BaseException:
        # BaseException too: a cancelled request must not leave a half-written file either.
        dst.unlink(missing_ok=True)
        raise
    return seconds


def decode(path: Path, sample_rate: int) -> np.ndarray:
    """The whole file as mono float32 in [-1, 1) at `sample_rate` (references are <= 300 s)."""
    import numpy as np

    with _opened(path) as (container, stream):
        chunks = list(_mono_s16(container, stream, sample_rate))
    if not chunks or not any(len(c) for c in chunks):
        raise AudioError(UNDECODABLE)
    return np.concatenate(chunks).astype(np.float32) / np.float32(32768)


def wav_duration(path: Path) -> float:
    """Seconds of audio in a PCM WAV file, from its header alone."""
    try:
        with wave.open(str(path), "rb") as w:
            return w.getnframes() / w.getframerate()
    except (wave.Error, EOFError, ZeroDivisionError) as exc:
        raise AudioError("Not a PCM WAV file.") from exc


def pcm16(samples: np.ndarray) -> np.ndarray:
    """Mono float samples in [-1, 1] (clipped; NaN as 0) as little-endian 16-bit integers."""
    import numpy as np

    mono = np.nan_to_num(np.asarray(samples, dtype=np.float32).reshape(-1))
    return (np.clip(mono, -1.0, 1.0) * 32767.0).round().astype("<i2")


class WavWriter:
    """A mono 16-bit PCM WAV written piece by piece (the header is patched on close), so a long
    result is never held in memory whole."""

    def __init__(self, target: str | Path | IO[bytes], sample_rate: int) -> None:
        self._out = wave.open(str(target) if isinstance(target, Path) else target, "wb")
        self._out.setnchannels(1)
        self._out.setsampwidth(2)
        self._out.setframerate(sample_rate)
        self.frames = 0

    def write(self, pcm: np.ndarray) -> None:
        """Append 16-bit samples (see pcm16)."""
        self._out.writeframesraw(pcm.tobytes())
        self.frames += len(pcm)

    def close(self) -> None:
        self._out.close()

    def __enter__(self) -> WavWriter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    """Mono float samples in [-1, 1] (clipped; NaN as 0) as a 16-bit PCM WAV file."""
    with WavWriter(path, sample_rate) as out:
        out.write(pcm16(samples))


def wav_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    """Mono float samples in [-1, 1] (clipped; NaN as 0) as the bytes of a 16-bit PCM WAV."""
    buffer = io.BytesIO()
    with WavWriter(buffer, sample_rate) as out:
        out.write(pcm16(samples))
    return buffer.getvalue()
