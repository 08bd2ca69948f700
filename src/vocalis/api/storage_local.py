"""`LocalStorage`: objects as files below a root folder, handed out by HMAC-signed URLs."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import anyio.to_thread

from vocalis.api.security import sign_url, verify_url
from vocalis.api.storage import CHUNK_SIZE, ObjectNotFound, ObjectTooLarge, validate_key

# Where writes happen before their atomic rename: inside the root (same filesystem, so the
# rename is atomic) but under a name no valid key can reach.
_PARTIAL_DIR = ".partial"


class LocalStorage:
    """Objects at `{root}/{key}`. Readers never see a half-written object: every write goes
    to a temporary file first and is renamed into place."""

    def __init__(
        self,
        root: Path,
        secret: str,
        *,
        default_expires_in: int = 3600,
        url_prefix: str = "/api/storage",
    ) -> None:
        self.root = root.resolve()
        self._secret = secret
        self.default_expires_in = default_expires_in
        self.url_prefix = url_prefix

    def path_for(self, key: str) -> Path:
        return self.root / validate_key(key)

    async def put_file(self, key: str, path: Path, content_type: str | None = None) -> None:
        target = self.path_for(key)
        await anyio.to_thread.run_sync(self._copy_in, Path(path), target)

    async def put_stream(
        self,
        key: str,
        chunks: AsyncIterator[bytes],
        content_type: str | None = None,
        max_bytes: int | None = None,
    ) -> int:
        target = self.path_for(key)
        partial = await anyio.to_thread.run_sync(self._new_partial)
        total = 0
        committed = False
        try:
            async with await anyio.open_file(partial, "wb") as out:
                async for chunk in chunks:
                    total += len(chunk)
                    if max_bytes is not None and total > max_bytes:
                        raise ObjectTooLarge()
                    await out.write(chunk)
                await out.flush()
                await anyio.to_thread.run_sync(os.fsync, out.wrapped.fileno())
            await anyio.to_thread.run_sync(self._commit, partial, target)
            committed = True
        finally:
            if not committed:
                with contextlib.suppress(OSError):
                    partial.unlink()
        return total

    async def get_to_file(self, key: str, path: Path) -> None:
        source = self.path_for(key)
        try:
            await anyio.to_thread.run_sync(shutil.copyfile, source, path)
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectNotFound() from None

    async def read_stream(
        self, key: str, *, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        path = self.path_for(key)
        try:
            source = await anyio.open_file(path, "rb")
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectNotFound() from None
        async with source:
            await source.seek(start)
            remaining = None if end is None else end - start + 1
            while remaining is None or remaining > 0:
                chunk = await source.read(
                    CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining)
                )
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    async def exists(self, key: str) -> bool:
        return await anyio.Path(self.path_for(key)).is_file()

    async def size(self, key: str) -> int:
        try:
            info = await anyio.Path(self.path_for(key)).stat()
        except FileNotFoundError:
            raise ObjectNotFound() from None
        if not stat.S_ISREG(info.st_mode):
            raise ObjectNotFound()
        return info.st_size

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(self._delete, self.path_for(key))

    async def signed_url(
        self,
        key: str,
        *,
        method: str = "GET",
        expires_in: int | None = None,
        content_type: str | None = None,
    ) -> str:
        validate_key(key)
        expires_at = int(time.time()) + (expires_in or self.default_expires_in)
        return sign_url(self._secret, method, key, expires_at, prefix=self.url_prefix)

    def verify_signed(
        self, method: str, key: str, expires: str | None, signature: str | None
    ) -> bool:
        """True when a URL from `signed_url` grants `method` on `key` right now."""
        return verify_url(self._secret, method, key, expires, signature)

    # --- blocking helpers, run in a worker thread ---------------------------------------

    def _new_partial(self) -> Path:
        folder = self.root / _PARTIAL_DIR
        folder.mkdir(parents=True, exist_ok=True)
        return folder / uuid.uuid4().hex

    def _copy_in(self, source: Path, target: Path) -> None:
        partial = self._new_partial()
        try:
            with source.open("rb") as src, partial.open("wb") as out:
                shutil.copyfileobj(src, out, CHUNK_SIZE)
                out.flush()
                os.fsync(out.fileno())
            self._commit(partial, target)
        except BaseException:
            with contextlib.suppress(OSError):
                partial.unlink()
            raise

    def _commit(self, partial: Path, target: Path) -> None:
        # A concurrent delete may prune the (empty) target folder between mkdir and
        # rename; recreate it and try again rather than fail the write.
        for attempt in range(3):
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(partial, target)
                return
            except FileNotFoundError:
                if attempt == 2:
                    raise

    def _delete(self, path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        # Prune folders left empty (references/{user}/{voice}/), up to the root.
        parent = path.parent
        while parent != self.root and self.root in parent.parents:
            try:
                parent.rmdir()
            except OSError:  # not empty, or already gone
                return
            parent = parent.parent
