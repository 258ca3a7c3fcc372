"""The lease that stands for ``agent.lock`` on object storage.

A local run holds an ``flock`` that the kernel drops when the process dies. Object storage has
no such thing, so a run holds a lease: a small JSON object at ``<agent>/agent.lock``, created
only if absent (``If-None-Match: *``) and renewed every ``ttl/3`` seconds only if unchanged
(``If-Match`` on the ETag of the last renewal). A lease not renewed for ``ttl`` seconds (by the
store's clock: the object's Last-Modified) has expired: its run died, and another writer may take
it over with ``If-Match`` on the expired object. A writer whose renewal is refused has lost the
agent and stops writing.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass

import orjson

DEFAULT_TTL_S = 30.0
CLOCK_SLACK_S = 5.0  # the reader's clock against the store's


@dataclass(frozen=True)
class Lease:
    owner: str
    host: str
    pid: int
    ttl_s: float
    run_id: str | None = None
    released: bool = False

    @classmethod
    def mine(cls, ttl_s: float, run_id: str | None) -> Lease:
        return cls(uuid.uuid4().hex, socket.gethostname(), os.getpid(), ttl_s, run_id)

    def released_copy(self) -> Lease:
        return Lease(self.owner, self.host, self.pid, self.ttl_s, self.run_id, True)

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "owner": self.owner,
                "host": self.host,
                "pid": self.pid,
                "ttl_s": self.ttl_s,
                "run_id": self.run_id,
                "released": self.released,
                "renewed_at": time.time(),
            }
        )

    @classmethod
    def parse(cls, data: bytes) -> Lease | None:
        """A lease from its object, or None when it is not one (hostile or foreign bytes)."""
        try:
            doc = orjson.loads(data[:4096])
            ttl = float(doc["ttl_s"])
            if not (0 < ttl <= 24 * 3600):
                return None
            return cls(
                str(doc["owner"])[:64],
                str(doc.get("host", "?"))[:128],
                int(doc.get("pid") or 0),
                ttl,
                None if doc.get("run_id") is None else str(doc["run_id"])[:64],
                bool(doc.get("released", False)),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            return None

    def live(self, last_modified: float, now: float | None = None) -> bool:
        """Held: not released and renewed within its time to live (by the store's clock)."""
        if self.released:
            return False
        now = time.time() if now is None else now
        return now <= last_modified + self.ttl_s + CLOCK_SLACK_S

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host} (a lease renewed every {self.ttl_s / 3:g} s)"
