"""TTS engines and their registry. Engine modules are imported only when asked for, so picking
the `local` engine never imports torch, and the API process imports none of them."""

from __future__ import annotations

import importlib
from typing import Any

from vocalis.worker.engines.base import Engine

# name -> "module:Class"; the module is imported on first use.
ENGINES: dict[str, str] = {
    "local": "vocalis.worker.engines.local:LocalEngine",
    "qwen": "vocalis.worker.engines.qwen:QwenEngine",
    # Deterministic tones in microseconds, for tests and benchmarks of the job machinery.
    "tone": "vocalis.worker.engines.tone:ToneEngine",
}


def load_engine(name: str, **options: Any) -> Engine:
    """Build the engine called `name`, passing `options` to its constructor."""
    try:
        target = ENGINES[name]
    except KeyError:
        raise ValueError(f"unknown engine {name!r}; one of {', '.join(sorted(ENGINES))}") from None
    module_name, _, class_name = target.partition(":")
    engine_class = getattr(importlib.import_module(module_name), class_name)
    engine: Engine = engine_class(**options)
    return engine
