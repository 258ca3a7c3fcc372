"""Objects under ``s3://bucket/prefix``, through obstore (the S3 API: AWS, MinIO, Ceph, R2, GCS).

Why obstore: one compiled wheel (Rust's ``object_store``, used by Arrow/DataFusion/Polars) with no
dependency of its own, and conditional writes as plain arguments: ``mode="create"`` sends
``If-None-Match: *``, ``mode={"e_tag": ...}`` sends ``If-Match``. boto3 would bring botocore
(about 90 MB installed, 0.3-0.5 s to import) for the same requests.

Endpoint, region and credentials come from the standard AWS variables (``AWS_ENDPOINT_URL``,
``AWS_ENDPOINT_URL_S3``, ``AWS_REGION``, ``AWS_ACCESS_KEY_ID``..., and ``AWS_PROFILE`` through
boto3's credential chain when boto3 is installed). They are read here and never written anywhere;
errors are shown without them (:func:`describe`).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from agent_tui.store import SCHEME

REQUESTS_TIMEOUT = "30s"
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")


class StoreError(RuntimeError):
    """Object storage could not be used (what failed, without credentials)."""


class NoConditionalWrites(StoreError):
    """The store accepted a second create of one key: it ignores ``If-None-Match``."""


class Exists(StoreError):
    """A create was refused: the key exists (``If-None-Match: *`` failed)."""


class Changed(StoreError):
    """A replace was refused: the object is not the one read (``If-Match`` failed)."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str  # relative to the root's prefix
    size: int
    etag: str
    mtime: float


def parse_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix/`` -> ``("bucket", "some/prefix")``; a clear error otherwise."""
    if not url.startswith(SCHEME):
        raise StoreError(f"{url!r} is not an s3:// address")
    bucket, _, prefix = url[len(SCHEME) :].partition("/")
    if not _BUCKET.match(bucket):
        raise StoreError(f"{url!r}: {bucket!r} is not a bucket name (3-63 of a-z 0-9 . -)")
    parts = [part for part in prefix.split("/") if part]
    if any(part in (".", "..") for part in parts):
        raise StoreError(f"{url!r}: the prefix may not hold . or .. parts")
    return bucket, "/".join(parts)


def _endpoint() -> str | None:
    for name in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT"):
        value = os.environ.get(name)
        if value:
            return value
    return None


def _credential_provider() -> Any:
    """boto3's chain (profiles, SSO, instance roles) when keys are not in the environment."""
    if os.environ.get("AWS_ACCESS_KEY_ID"):
        return None
    try:
        import boto3  # type: ignore[import-untyped]
        from obstore.auth.boto3 import Boto3CredentialProvider
    except ImportError:
        return None
    session = boto3.Session()
    if session.get_credentials() is None:
        return None
    return Boto3CredentialProvider(session)


def describe(exc: BaseException) -> str:
    """An obstore error in one line: its kind and the status, without the request's details."""
    text = str(exc)
    status = re.search(r"status code: (\d{3}[^:<]*)", text)
    first = text.splitlines()[0] if text else type(exc).__name__
    first = re.sub(r"https?://\S+", "<endpoint>", first)[:200]
    return (
        f"{first} ({status.group(1).strip()})" if status and status.group(1) not in first else first
    )


class S3Objects:
    """The objects under one root. Keys are relative to the root's prefix."""

    def __init__(self, url: str) -> None:
        try:
            from obstore.store import S3Store
        except ImportError:
            raise StoreError(
                "s3:// roots need obstore: pip install 'agent-tui-workspace[s3]'"
            ) from None
        self.url = url.rstrip("/")
        self.bucket, self.prefix = parse_url(url)
        options: dict[str, Any] = {"timeout": REQUESTS_TIMEOUT}
        config: dict[str, Any] = {}
        endpoint = _endpoint()
        if endpoint:
            config["endpoint"] = endpoint
            if endpoint.startswith("http://"):
                options["allow_http"] = True
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if region:
            config["region"] = region
        try:
            self._store = S3Store(
                self.bucket,
                prefix=self.prefix or None,
                config=config or None,  # type: ignore[arg-type]
                client_options=options,  # type: ignore[arg-type]
                retry_config={"max_retries": 3, "retry_timeout": timedelta(seconds=20)},
                credential_provider=_credential_provider(),
            )
        except Exception as exc:
            raise StoreError(f"{self.url}: {describe(exc)}") from None

    def __repr__(self) -> str:
        return f"S3Objects({self.url!r})"

    # ----------------------------------------------------------------- reads
    def get(self, key: str) -> tuple[bytes, str] | None:
        """The object's bytes and ETag, or None when there is none."""
        import obstore

        try:
            result = obstore.get(self._store, key)
            data = bytes(result.bytes())
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise self._error("read", key, exc) from None
        return data, str(result.meta.get("e_tag") or "")

    def head(self, key: str) -> ObjectInfo | None:
        """The object's size, ETag and Last-Modified (the store's clock), or None."""
        import obstore

        try:
            meta = obstore.head(self._store, key)
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise self._error("read", key, exc) from None
        return ObjectInfo(
            key=key,
            size=int(meta["size"]),
            etag=str(meta.get("e_tag") or ""),
            mtime=meta["last_modified"].timestamp(),
        )

    def list(self, under: str = "") -> Iterator[ObjectInfo]:
        """Every object whose key starts with ``under``, page by page."""
        import obstore

        listed: list[ObjectInfo] = []
        try:
            for page in obstore.list(self._store, prefix=under or None, chunk_size=1000):
                for meta in page:
                    listed.append(
                        ObjectInfo(
                            key=str(meta["path"]),
                            size=int(meta["size"]),
                            etag=str(meta.get("e_tag") or ""),
                            mtime=meta["last_modified"].timestamp(),
                        )
                    )
        except Exception as exc:
            if "invalid path" not in str(exc).lower():
                raise self._error("list", under or "/", exc) from None
            # A key obstore cannot parse (a/../b, a//b): listed by our own request instead,
            # so that one hostile object does not hide the whole root.
            yield from self._list_raw(under)
            return
        yield from listed

    def _list_raw(self, under: str) -> Iterator[ObjectInfo]:
        from agent_tui.store.s3_list import raw_list

        start = f"{self.prefix}/" if self.prefix else ""
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        try:
            for key, size, etag, mtime in raw_list(self.bucket, start + under, _endpoint(), region):
                if key.startswith(start):
                    yield ObjectInfo(key[len(start) :], size, etag, mtime)
        except Exception as exc:
            raise self._error("list", under or "/", exc) from None

    # ----------------------------------------------------------------- writes
    def put(self, key: str, data: bytes) -> str:
        """Write the whole object (atomic per object: a reader sees the old or the new)."""
        return self._put(key, data, "overwrite")

    def create(self, key: str, data: bytes) -> str:
        """Write ``key`` only if absent (``If-None-Match: *``); :class:`Exists` otherwise."""
        return self._put(key, data, "create")

    def replace(self, key: str, data: bytes, etag: str) -> str:
        """Write ``key`` only if it is still ``etag`` (``If-Match``); :class:`Changed` otherwise."""
        return self._put(key, data, {"e_tag": etag})

    def _put(self, key: str, data: bytes, mode: Any) -> str:
        import obstore
        from obstore.exceptions import AlreadyExistsError, PreconditionError

        try:
            result = obstore.put(self._store, key, data, mode=mode)
        except AlreadyExistsError:
            raise Exists(f"{self.url}/{key} exists") from None
        except PreconditionError:
            raise Changed(f"{self.url}/{key} was changed by another writer") from None
        except FileNotFoundError:  # If-Match on a key that is gone
            raise Changed(f"{self.url}/{key} was removed by another writer") from None
        except Exception as exc:
            raise self._error("write", key, exc) from None
        return str(result.get("e_tag") or "")

    def delete(self, keys: Iterable[str]) -> int:
        """Remove ``keys`` (in batches); how many were asked for."""
        import obstore

        batch = list(keys)
        for start in range(0, len(batch), 1000):
            try:
                obstore.delete(self._store, batch[start : start + 1000])
            except FileNotFoundError:
                pass
            except Exception as exc:
                raise self._error("delete", batch[start], exc) from None
        return len(batch)

    def check_conditional(self) -> None:
        """Refuse a store that ignores ``If-None-Match`` (it would let two writers both win)."""
        key = f".agent-tui-probe/{uuid.uuid4().hex}"
        self.create(key, b"1")
        try:
            self.create(key, b"2")
        except Exists:
            return
        finally:
            self.delete([key])
        raise NoConditionalWrites(
            f"{self.url}: this store ignores conditional writes (If-None-Match); two writers "
            "would silently overwrite each other, so agent-tui will not write runs to it"
        )

    def _error(self, what: str, key: str, exc: BaseException) -> StoreError:
        return StoreError(f"cannot {what} {self.url}/{key}: {describe(exc)}")
