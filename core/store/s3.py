"""Objects under ``s3://bucket/prefix``, through obstore (the S3 API: AWS, MinIO, Ceph, R2, GCS).

Why obstore: one compiled wheel (Rust's ``object_store``, used by Arrow/DataFusion/Polars) with no
dependency of its own, and conditional writes as plain arguments: ``mode="create"`` sends
``If-None-Match: *``, ``mode={"e_tag": ...}`` sends ``If-Match``. boto3 would bring botocore
(about 90 MB installed, 0.3-0.5 s to import) for the same requests.

Endpoint, region and credentials come from the standard AWS settings (:mod:`.aws_settings`:
``AWS_ENDPOINT_URL``, ``AWS_REGION``, ``AWS_ACCESS_KEY_ID``..., ``AWS_PROFILE`` and the shared
files; a profile without static keys through boto3's chain when boto3 is installed). They are
read here and never written anywhere; errors are shown without them (:func:`describe`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from agent_tui.store import SCHEME, aws_settings

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


def _boto3_provider(profile: str) -> Any:
    """boto3's chain for a profile whose keys come from SSO, a role or a process."""
    try:
        import boto3  # type: ignore[import-untyped]
        from obstore.auth.boto3 import Boto3CredentialProvider
    except ImportError:
        raise StoreError(
            f"AWS profile {profile!r} gets its keys from SSO, a role or a process, which needs "
            "boto3 (pip install boto3), or put the keys in the environment"
        ) from None
    return Boto3CredentialProvider(boto3.Session(profile_name=profile))


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
        try:
            self._aws = aws_settings.resolve()
        except aws_settings.ProfileError as exc:
            raise StoreError(str(exc)) from None
        aws = self._aws
        options: dict[str, Any] = {"timeout": REQUESTS_TIMEOUT}
        config: dict[str, Any] = {}
        if aws.endpoint:
            config["endpoint"] = aws.endpoint
            if aws.endpoint.startswith("http://"):
                options["allow_http"] = True
        if aws.region:
            config["region"] = aws.region
        if aws.access_key and aws.secret_key:
            config["access_key_id"] = aws.access_key
            config["secret_access_key"] = aws.secret_key
            if aws.token:
                config["session_token"] = aws.token
        provider = _boto3_provider(aws.profile) if aws.indirect and aws.profile else None
        try:
            self._store = S3Store(
                self.bucket,
                prefix=self.prefix or None,
                config=config or None,  # type: ignore[arg-type]
                client_options=options,  # type: ignore[arg-type]
                retry_config={"max_retries": 3, "retry_timeout": timedelta(seconds=20)},
                credential_provider=provider,
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
        aws = self._aws
        keys = (aws.access_key or "", aws.secret_key or "", aws.token)
        try:
            listing = raw_list(
                self.bucket, start + under, aws.endpoint, aws.region or "us-east-1", keys
            )
            for key, size, etag, mtime in listing:
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
