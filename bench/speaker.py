"""Speaker embeddings for the benchmarks: a numpy port of Resemblyzer's VoiceEncoder.

Resemblyzer (MIT, github.com/resemble-ai/Resemblyzer) is a GE2E d-vector model: 40-channel mel
frames every 10 ms, a 3-layer LSTM with 256 units, a linear layer, ReLU and L2 norm, applied to
1.6 s partials whose embeddings are averaged. Porting the forward pass keeps torch and librosa
out of the benchmark; only the weights file `pretrained.pt` is needed, which ships inside the
`resemblyzer` wheel (bench/downloads.py fetches it; it is never committed here).

The preprocessing mirrors resemblyzer/audio.py as run with current librosa (>= 0.10, so the
STFT pads with zeros): raise quiet audio to -30 dBFS, cut silences longer than ~0.2 s with
webrtcvad, then a slaney-normalised mel power spectrogram (n_fft 400, hop 160, Hann window).
"""

from __future__ import annotations

import pickle
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from math import gcd
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt
from scipy.ndimage import binary_dilation
from scipy.signal import resample_poly

F32 = npt.NDArray[np.float32]

SAMPLE_RATE = 16_000
N_FFT = 400  # 25 ms window
HOP = 160  # 10 ms step
N_MELS = 40
PARTIAL_FRAMES = 160  # 1.6 s per partial utterance
TARGET_DBFS = -30.0
VAD_WINDOW = 480  # 30 ms at 16 kHz
VAD_AVERAGE_WIDTH = 8
VAD_MAX_SILENCE = 6
INT16_MAX = 2**15 - 1

_STORAGE_DTYPES: dict[str, type[np.generic]] = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
}


# --- checkpoint loading without torch ------------------------------------------------------------


@dataclass(frozen=True)
class _Storage:
    key: str
    dtype: type[np.generic]


@dataclass(frozen=True)
class _TensorRef:
    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor_v2(
    storage: _Storage, offset: int, shape: tuple[int, ...], stride: tuple[int, ...], *_: Any
) -> _TensorRef:
    # The storage bytes come after the pickle in the legacy format, so resolve later.
    return _TensorRef(storage, offset, tuple(shape), tuple(stride))


class _CheckpointUnpickler(pickle.Unpickler):
    """Resolves only the few globals a state-dict checkpoint needs, so no code can run."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGE_DTYPES:
            return name
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")

    def __init__(self, file: IO[bytes]) -> None:
        super().__init__(file)
        self.storages: dict[str, _Storage] = {}

    def persistent_load(self, pid: Any) -> _Storage:
        # Both formats: ("storage", storage_type, key, location, numel[, view_metadata]).
        if pid[0] != "storage" or (len(pid) > 5 and pid[5] is not None):
            raise pickle.UnpicklingError(f"unsupported persistent id {pid[0]!r}")
        storage = _Storage(str(pid[2]), _STORAGE_DTYPES[pid[1]])
        self.storages[storage.key] = storage
        return storage


def load_state_dict(path: Path) -> dict[str, npt.NDArray[Any]]:
    """The tensors of a torch checkpoint's `model_state` (legacy or zip format) as numpy arrays."""
    raw: dict[str, npt.NDArray[np.uint8]] = {}
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            root = names[0].split("/")[0]
            checkpoint = _CheckpointUnpickler(archive.open(f"{root}/data.pkl")).load()
            for name in names:
                if name.startswith(f"{root}/data/"):
                    raw[name.rsplit("/", 1)[1]] = np.frombuffer(archive.read(name), np.uint8)
    else:
        with path.open("rb") as f:
            checkpoint = _read_legacy(f, raw)
    state = checkpoint["model_state"]
    return {name: _materialize(ref, raw) for name, ref in state.items()}


def _read_legacy(f: IO[bytes], raw: dict[str, npt.NDArray[np.uint8]]) -> Any:
    for _ in range(3):  # magic number, protocol version, sys info
        _CheckpointUnpickler(f).load()
    unpickler = _CheckpointUnpickler(f)
    checkpoint = unpickler.load()
    # The storages follow in this order (the optimizer's too), each as an int64 element count
    # and then its little-endian bytes.
    for key in _CheckpointUnpickler(f).load():
        numel = int(np.frombuffer(f.read(8), "<i8")[0])
        itemsize = np.dtype(unpickler.storages[str(key)].dtype).itemsize
        raw[str(key)] = np.frombuffer(f.read(numel * itemsize), np.uint8)
    return checkpoint


def _materialize(ref: _TensorRef, raw: dict[str, npt.NDArray[np.uint8]]) -> npt.NDArray[Any]:
    flat = raw[ref.storage.key].view(np.dtype(ref.storage.dtype).newbyteorder("<"))
    strides = tuple(s * flat.itemsize for s in ref.stride)
    view = np.lib.stride_tricks.as_strided(flat[ref.offset :], ref.shape, strides)
    return np.array(view, dtype=np.float32)


# --- preprocessing (resemblyzer/audio.py) --------------------------------------------------------


def preprocess(wav: npt.NDArray[np.floating[Any]], sample_rate: int) -> F32:
    """Resample to 16 kHz, raise quiet audio to -30 dBFS and shorten long silences."""
    out = np.asarray(wav, dtype=np.float64)
    if sample_rate != SAMPLE_RATE:
        common = gcd(sample_rate, SAMPLE_RATE)
        out = resample_poly(out, SAMPLE_RATE // common, sample_rate // common)
    rms_dbfs = 10 * np.log10(np.mean(out**2) + 1e-20)
    if rms_dbfs < TARGET_DBFS:
        out = out * 10 ** ((TARGET_DBFS - rms_dbfs) / 20)
    return _trim_long_silences(out).astype(np.float32)


def _trim_long_silences(wav: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    import webrtcvad  # from webrtcvad-wheels; only the benchmarks need it

    wav = wav[: len(wav) - len(wav) % VAD_WINDOW]
    pcm = np.round(np.clip(wav, -1, 1) * INT16_MAX).astype("<i2").tobytes()
    vad = webrtcvad.Vad(3)
    step = VAD_WINDOW * 2
    flags = np.array(
        [vad.is_speech(pcm[i : i + step], SAMPLE_RATE) for i in range(0, len(pcm), step)],
        dtype=np.float64,
    )
    # Same centred moving average as resemblyzer, then dilation to keep short pauses.
    width = VAD_AVERAGE_WIDTH
    padded = np.concatenate((np.zeros((width - 1) // 2), flags, np.zeros(width // 2)))
    sums = np.cumsum(padded)
    sums[width:] = sums[width:] - sums[:-width]
    mask = np.round(sums[width - 1 :] / width).astype(bool)
    mask = binary_dilation(mask, np.ones(VAD_MAX_SILENCE + 1))
    return wav[np.repeat(mask, VAD_WINDOW)]


def _hz_to_mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    # Slaney's scale, librosa's default: linear below 1 kHz, logarithmic above.
    linear = hz / (200.0 / 3)
    log = 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(hz >= 1000.0, log, linear)


def _mel_to_hz(mel: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    linear = mel * (200.0 / 3)
    log = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0))
    return np.where(mel >= 15.0, log, linear)


def mel_filterbank(sr: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS) -> F32:
    """librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels) with its slaney defaults."""
    fft_hz = np.fft.rfftfreq(n_fft, 1.0 / sr)
    edges = _mel_to_hz(np.linspace(0.0, _hz_to_mel(np.array(sr / 2.0)), n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_hz[None, :]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]  # equal area per band
    return weights.astype(np.float32)


def mel_spectrogram(wav: npt.NDArray[np.floating[Any]]) -> F32:
    """(frames, 40) mel power spectrogram, as librosa.feature.melspectrogram with center=True."""
    padded = np.pad(np.asarray(wav, dtype=np.float64), N_FFT // 2)
    n_frames = 1 + (len(padded) - N_FFT) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:n_frames]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)  # periodic Hann
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    return (power @ mel_filterbank().T.astype(np.float64)).astype(np.float32)


# --- the network (resemblyzer/voice_encoder.py) --------------------------------------------------


def partial_slices(n_samples: int, rate: float = 1.3, min_coverage: float = 0.75) -> list[slice]:
    """Mel-frame ranges of the 1.6 s partials, exactly as VoiceEncoder.compute_partial_slices."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    frame_step = int(np.round((SAMPLE_RATE / rate) / HOP))
    steps = max(1, n_frames - PARTIAL_FRAMES + frame_step + 1)
    slices = [slice(i, i + PARTIAL_FRAMES) for i in range(0, steps, frame_step)]
    last_start = slices[-1].start * HOP
    coverage = (n_samples - last_start) / (PARTIAL_FRAMES * HOP)
    if coverage < min_coverage and len(slices) > 1:
        slices.pop()
    return slices


def _sigmoid(x: F32) -> F32:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)  # overflow-free form


class VoiceEncoder:
    """Resemblyzer's d-vector model running on numpy."""

    def __init__(self, weights_path: Path) -> None:
        self.params = load_state_dict(weights_path)
        self.layers = sum(1 for name in self.params if name.startswith("lstm.weight_ih_l"))

    def forward(self, mels: F32) -> F32:
        """(batch, frames, 40) mel partials -> (batch, 256) unit-norm embeddings."""
        x = mels.astype(np.float32)
        for layer in range(self.layers):
            x = self._lstm_layer(x, layer)
        p = self.params
        embeds = np.maximum(x[:, -1] @ p["linear.weight"].T + p["linear.bias"], 0.0)
        return embeds / np.linalg.norm(embeds, axis=1, keepdims=True)

    def _lstm_layer(self, x: F32, layer: int) -> F32:
        p = self.params
        w_hh = p[f"lstm.weight_hh_l{layer}"].T
        gates_in = x @ p[f"lstm.weight_ih_l{layer}"].T
        gates_in += p[f"lstm.bias_ih_l{layer}"] + p[f"lstm.bias_hh_l{layer}"]
        batch, steps, _ = x.shape
        hidden = w_hh.shape[0]
        h = np.zeros((batch, hidden), np.float32)
        c = np.zeros((batch, hidden), np.float32)
        out = np.empty((batch, steps, hidden), np.float32)
        for t in range(steps):
            # torch packs the gates as input, forget, cell, output.
            i, f, g, o = np.split(gates_in[:, t] + h @ w_hh, 4, axis=1)
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
            h = _sigmoid(o) * np.tanh(c)
            out[:, t] = h
        return out

    def embed_utterance(self, wav: F32) -> F32:
        """Embedding of one preprocessed 16 kHz utterance: the normed mean of its partials."""
        slices = partial_slices(len(wav))
        needed = slices[-1].stop * HOP
        if needed >= len(wav):
            wav = np.pad(wav, (0, needed - len(wav)))
        mel = mel_spectrogram(wav)
        partials = self.forward(np.stack([mel[s] for s in slices]))
        mean = partials.mean(axis=0)
        return (mean / np.linalg.norm(mean)).astype(np.float32)

    def embed(self, wav: npt.NDArray[np.floating[Any]], sample_rate: int) -> F32:
        """Embedding of raw audio at any sample rate."""
        return self.embed_utterance(preprocess(wav, sample_rate))


def cosine(a: F32, b: F32) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
