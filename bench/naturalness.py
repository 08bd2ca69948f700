"""Non-intrusive speech quality: DNSMOS P.835 (Microsoft, MIT), from the `speechmos` wheel.

DNSMOS predicts the mean opinion scores listeners would give a clip without hearing a clean
original: SIG (the speech itself: natural or robotic, distorted), BAK (background noise) and
OVRL (overall), on a 1-5 scale. The `speechmos` wheel ships the ONNX models; only the P.835
model is used here (`sig_bak_ovr.onnx`, which reads the waveform directly), with the wheel's
polynomial calibration, so neither librosa nor requests (which speechmos's own wrapper imports)
is needed. Like the reference implementation, a clip is scored in 9.01 s windows one second
apart (a shorter clip is repeated to fill one) and the window scores are averaged.

    pip install -e '.[bench]'
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from math import gcd
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.signal import resample_poly

RATE = 16_000
WINDOW_S = 9.01
# Polynomials mapping the model's raw outputs to MOS (speechmos/dnsmos.py, non-personalised).
_SIG = np.poly1d([-0.08397278, 1.22083953, 0.0052439])
_BAK = np.poly1d([-0.13166888, 1.60915514, -0.39604546])
_OVRL = np.poly1d([-0.06766283, 1.11546468, 0.04602535])


@dataclass(frozen=True)
class Opinion:
    sig: float
    bak: float
    ovrl: float


class Dnsmos:
    """Scores clips; one ONNX session on one thread (so CPU time is comparable across runs)."""

    def __init__(self) -> None:
        import onnxruntime

        path = resources.files("speechmos").joinpath("dnsmos_models", "sig_bak_ovr.onnx")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        self._session: Any = onnxruntime.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )

    def score(self, audio: npt.NDArray[np.floating], rate: int) -> Opinion:
        x = np.asarray(audio, dtype=np.float64)
        if rate != RATE:
            step = gcd(RATE, rate)
            x = resample_poly(x, RATE // step, rate // step)
        x = np.clip(x, -1.0, 1.0).astype(np.float32)
        window = int(WINDOW_S * RATE)
        if len(x) == 0:
            raise ValueError("no audio to score")
        while len(x) < window:
            x = np.concatenate([x, x])
        hops = int(np.floor(len(x) / RATE) - WINDOW_S) + 1
        scores = []
        for hop in range(max(hops, 1)):
            segment = x[hop * RATE : hop * RATE + window]
            if len(segment) < window:
                continue
            sig, bak, ovrl = self._session.run(None, {"input_1": segment[None, :]})[0][0]
            scores.append((_SIG(sig), _BAK(bak), _OVRL(ovrl)))
        sig, bak, ovrl = np.mean(scores, axis=0)
        return Opinion(float(sig), float(bak), float(ovrl))
