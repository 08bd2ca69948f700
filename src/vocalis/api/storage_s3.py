"""`S3Storage`: any S3-compatible store (AWS S3, R2, MinIO, Supabase Storage).

boto3 is synchronous, so every call runs in a worker thread; it is imported here only, so
deployments without the `s3` extra never load it. Credentials come from boto3's usual chain
(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, an instance role).
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from vocalis.api.storage import (
    CHUNK_SIZE,
    ObjectNotFound,
    ObjectTooLarge,
    content_type_for,
    validate_key,
)

T = TypeVar("T")

_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


class S3Storage:
    """Objects at `s3://{bucket}/{prefix}/{key}`; clients fetch and upload them directly
    through presigned URLs."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        default_expires_in: int = 3600,
    ) -> None:
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config
        from botocore.exceptions import ClientError

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.default_expires_in = default_expires_in
        self._client_error = ClientError
        # Signature v4 everywhere: presigned URLs from v2 are refused by most regions/clones.
        self._client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            config=Config(signature_version="s3v4", retries={"mode": "standard"}),
        )
        # Multipart above 8 MiB, so a 50 MB reference uploads in parts instead of one body.
        self._transfer = TransferConfig(multipart_threshold=8 * 1024 * 1024)

    def object_key(self, key: str) -> str:
        validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    async def put_file(self, key: str, path: Path, content_type: str | None = None) -> None:
        extra = {"ContentType": content_type or content_type_for(key)}
        await self._run(
            self._client.upload_file,
            str(path),
            self.bucket,
            self.object_key(key),
            ExtraArgs=extra,
            Config=self._transfer,
        )

    async def put_stream(
        self,
        key: str,
        chunks: AsyncIterator[bytes],
        content_type: str | None = None,
        max_bytes: int | None = None,
    ) -> int:
        # Spooled to a temporary file first: the size cap is then enforced before anything
        # reaches the bucket, and boto3's multipart upload gets the seekable file it wants.
        object_key = self.object_key(key)
        fd, name = tempfile.mkstemp(prefix="vocalis-upload-")
        os.close(fd)
        spool = Path(name)
        total = 0
        try:
            async with await anyio.open_file(spool, "wb") as out:
                async for chunk in chunks:
                    total += len(chunk)
                    if max_bytes is not None and total > max_bytes:
                        raise ObjectTooLarge()
                    await out.write(chunk)
            await self._run(
                self._client.upload_file,
                name,
                self.bucket,
                object_key,
                ExtraArgs={"ContentType": content_type or content_type_for(key)},
                Config=self._transfer,
            )
        finally:
            with contextlib.suppress(OSError):
                spool.unlink()
        return total

    async def get_to_file(self, key: str, path: Path) -> None:
        try:
            await self._run(
                self._client.download_file, self.bucket, self.object_key(key), str(path)
            )
        except self._client_error as exc:
            raise self._translate(exc) from None

    async def read_stream(
        self, key: str, *, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": self.object_key(key)}
        if start or end is not None:
            params["Range"] = f"bytes={start}-{'' if end is None else end}"
        try:
            response = await self._run(self._client.get_object, **params)
        except self._client_error as exc:
            raise self._translate(exc) from None
        body = response["Body"]
        try:
            while chunk := await self._run(body.read, CHUNK_SIZE):
                yield chunk
        finally:
            body.close()

    async def exists(self, key: str) -> bool:
        try:
            await self.size(key)
        except ObjectNotFound:
            return False
        return True

    async def size(self, key: str) -> int:
        try:
            head = await self._run(
                self._client.head_object, Bucket=self.bucket, Key=self.object_key(key)
            )
        except self._client_error as exc:
            raise self._translate(exc) from None
        return int(head["ContentLength"])

    async def delete(self, key: str) -> None:
        # S3 answers 204 for a missing key too, so this is idempotent as the protocol asks.
        await self._run(self._client.delete_object, Bucket=self.bucket, Key=self.object_key(key))

    async def signed_url(
        self,
        key: str,
        *,
        method: str = "GET",
        expires_in: int | None = None,
        content_type: str | None = None,
    ) -> str:
        method = method.upper()
        if method not in ("GET", "PUT"):
            raise ValueError(f"cannot sign {method} for S3")
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": self.object_key(key)}
        if method == "PUT" and content_type:
            # Signed in: the uploader must send this exact Content-Type header.
            params["ContentType"] = content_type
        url: str = await self._run(
            self._client.generate_presigned_url,
            "get_object" if method == "GET" else "put_object",
            Params=params,
            ExpiresIn=expires_in or self.default_expires_in,
        )
        return url

    def _translate(self, exc: Exception) -> Exception:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        return ObjectNotFound() if code in _MISSING_CODES else exc

    @staticmethod
    async def _run(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await anyio.to_thread.run_sync(functools.partial(func, *args, **kwargs))
