"""Parsing the loose input fields that several routes share (JSON or form values)."""

from __future__ import annotations

from typing import Any

from vocalis.api.errors import BadRequest
from vocalis.protocol import DEFAULT_LANGUAGE, LANGUAGES


def text_input(value: Any, label: str) -> str:
    """A string field, stripped; missing is ""."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"{label} must be a string.")
    return value.strip()


def parse_language(value: Any, *, required: bool = False) -> str:
    """One of protocol.LANGUAGES; missing or blank means "Auto" unless `required`."""
    if value is None or value == "":
        if required:
            raise BadRequest("Language is required.")
        return DEFAULT_LANGUAGE
    if not isinstance(value, str) or value not in LANGUAGES:
        raise BadRequest(f"Unsupported language: {value}")
    return value
