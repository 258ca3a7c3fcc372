"""A listing of keys that obstore cannot parse (``..``, empty parts): ListObjectsV2 signed here.

obstore refuses a whole listing when one key under the prefix is not a valid path for it
(``a/../b``, ``a//b``), so one hostile object would hide every agent of a root. This listing is
the fallback: the same request, signed with AWS Signature V4 with the root's static keys, its
XML read with every key kept as a string (the mirror skips the unsafe ones and counts them).
"""

from __future__ import annotations

import hashlib
import hmac
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from xml.etree import ElementTree

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def _quote(text: str) -> str:
    return urllib.parse.quote(text, safe="-_.~")


def _sign(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def raw_list(
    bucket: str,
    prefix: str,
    endpoint: str | None,
    region: str,
    keys: tuple[str, str, str | None],
) -> Iterator[tuple[str, int, str, float]]:
    """``(key, size, etag, mtime)`` of every object whose key starts with ``prefix``, signed
    with ``keys`` (access key, secret, session token)."""
    access, secret, token = keys
    if endpoint:
        base = endpoint.rstrip("/")
        path = f"/{bucket}"
    else:
        base = f"https://{bucket}.s3.{region}.amazonaws.com"
        path = "/"
    host = urllib.parse.urlsplit(base).netloc
    path = urllib.parse.urlsplit(base).path.rstrip("/") + path
    continuation: str | None = None
    while True:
        params = {"list-type": "2", "encoding-type": "url", "prefix": prefix}
        if continuation:
            params["continuation-token"] = continuation
        query = "&".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(params.items()))
        now = datetime.now(UTC)
        stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        headers = {"host": host, "x-amz-content-sha256": EMPTY_SHA256, "x-amz-date": stamp}
        if token:
            headers["x-amz-security-token"] = token
        names = ";".join(sorted(headers))
        canonical = "\n".join(
            [
                "GET",
                urllib.parse.quote(path, safe="/-_.~"),
                query,
                "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)),
                names,
                EMPTY_SHA256,
            ]
        )
        scope = f"{day}/{region}/s3/aws4_request"
        to_sign = "\n".join(
            ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        key = _sign(f"AWS4{secret}".encode(), day)
        for part in (region, "s3", "aws4_request"):
            key = _sign(key, part)
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={access}/{scope}, SignedHeaders={names}, "
            f"Signature={signature}"
        )
        request = urllib.request.Request(f"{base}{path}?{query}", headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (the store's own address)
            tree = ElementTree.fromstring(response.read())
        for item in tree.iter(f"{NS}Contents"):
            name = urllib.parse.unquote(item.findtext(f"{NS}Key") or "")
            modified = item.findtext(f"{NS}LastModified") or ""
            try:
                mtime = datetime.fromisoformat(modified.replace("Z", "+00:00")).timestamp()
            except ValueError:
                mtime = 0.0
            yield (
                name,
                int(item.findtext(f"{NS}Size") or 0),
                item.findtext(f"{NS}ETag") or "",
                mtime,
            )
        if (tree.findtext(f"{NS}IsTruncated") or "").lower() != "true":
            return
        continuation = tree.findtext(f"{NS}NextContinuationToken")
        if not continuation:
            return
