"""Getting a clone job's reference recording onto local disk, streamed and size-capped.

The engine decodes the file itself; here only the bytes arrive: by URL (how large references
travel, e.g. a signed storage URL) or inline base64 for small ones.
"""

from __future__ import annotations

import binascii
from pathlib import Path

import aiohttp

_CHUNK = 64 * 1024
_B64_CHUNK = 1024 * 1024  # characters decoded at a time; keeps peak memory small and flat
_WHITESPACE = str.maketrans("", "", " \t\r\n")


class ReferenceProblem(Exception):
    """The reference audio could not be obtained."""

    too_large = False


class ReferenceTooLarge(ReferenceProblem):
    too_large = True


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n} bytes"


def decode_base64_reference(data: str, dest: Path, max_bytes: int) -> int:
    """Decode `ref_audio_base64` (optionally a data: URL) into `dest`; returns the byte count.

    Decoded a slice at a time, so a large string never exists twice in memory.
    """
    start = data.index(",") + 1 if data.startswith("data:") and "," in data[:256] else 0
    written = 0
    carry = ""
    with dest.open("wb") as out:
        for offset in range(start, len(data), _B64_CHUNK):
            piece = carry + data[offset : offset + _B64_CHUNK].translate(_WHITESPACE)
            usable = len(piece) - len(piece) % 4
            carry = piece[usable:]
            try:
                decoded = binascii.a2b_base64(piece[:usable], strict_mode=True)
            except binascii.Error:
                raise ReferenceProblem("ref_audio_base64 is not valid base64.") from None
            written += len(decoded)
            if written > max_bytes:
                raise ReferenceTooLarge(f"The reference audio exceeds {_mb(max_bytes)}.")
            out.write(decoded)
    if carry:
        raise ReferenceProblem("ref_audio_base64 is not valid base64 (truncated).")
    if written == 0:
        raise ReferenceProblem("ref_audio_base64 is empty.")
    return written


async def download_reference(
    session: aiohttp.ClientSession,
    url: str,
    dest: Path,
    *,
    max_bytes: int,
    timeout: float,
) -> int:
    """Stream `url` into `dest`, refusing more than `max_bytes`; returns the byte count.

    Messages never include the URL: it is usually signed, and errors are shown to users.
    """
    written = 0
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            if response.status != 200:
                raise ReferenceProblem(
                    f"Could not download the reference audio (HTTP {response.status})."
                )
            if response.content_length is not None and response.content_length > max_bytes:
                raise ReferenceTooLarge(f"The reference audio exceeds {_mb(max_bytes)}.")
            with dest.open("wb") as out:
                async for chunk in response.content.iter_chunked(_CHUNK):
                    written += len(chunk)
                    if written > max_bytes:
                        raise ReferenceTooLarge(f"The reference audio exceeds {_mb(max_bytes)}.")
                    out.write(chunk)
    except TimeoutError:
        raise ReferenceProblem("Downloading the reference audio timed out.") from None
    except aiohttp.ClientError as exc:
        reason = type(exc).__name__
        raise ReferenceProblem(f"Could not download the reference audio ({reason}).") from None
    if written == 0:
        raise ReferenceProblem("The reference audio download was empty.")
    return written
