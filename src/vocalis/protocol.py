"""Job protocol v1: the wire models shared by the API's worker client and the worker.

Pure data, no I/O. See SPEC.md §5.
"""

from __future__ import annotations

PROTOCOL_VERSION = "v1"

# What Qwen3-TTS supports; "Auto" lets the engine pick from the text.
LANGUAGES: tuple[str, ...] = (
    "Auto",
    "English",
    "Chinese",
    "Japanese",
    "Korean",
    "German",
    "French",
    "Russian",
    "Portuguese",
    "Spanish",
    "Italian",
)
DEFAULT_LANGUAGE = "Auto"
