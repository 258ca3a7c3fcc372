"""A run writing to object storage: the agent's objects and its lease.

The run keeps writing its folder as a local run does (here the folder is the root's mirror in
the cache, so ``load()`` and the journal's catch-up read it as usual) and, after each local write,
writes the object:

- each journal record becomes ``<agent>/journal/<seq:012d>.json``, created only if absent, on the
  run's thread before the step ends (a ``kill -9`` loses at most the step in flight, as locally);
  a record whose key exists was written by another writer: this one has lost the agent;
- ``config.json`` is a whole-object PUT, replace-if-unchanged on the ETag of this run's last PUT
  (a late writer cannot overwrite its successor's), at most every :data:`CONFIG_INTERVAL_S`
  unless the status changed (request cost: a PUT per step would be a PUT per step);
- the state file is a whole-object PUT (only the lease holder writes it);
- at the end of a run the step objects are compacted into ``journal.jsonl`` and removed.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import orjson

from agent_tui.format.layout import CONFIG_NAME, JOURNAL_NAME, LOCK_NAME
from agent_tui.format.lock import WorkspaceBusyError
from agent_tui.format.persistence import dumps
from agent_tui.store.lease import DEFAULT_TTL_S, Lease
from agent_tui.store.mirror import PARTS_FOLDER, Mirror, part_seq
from agent_tui.store.s3 import Changed, Exists, S3Objects, StoreError

CONFIG_INTERVAL_S = 2.0  # default of AGENT_TUI_REMOTE_CONFIG_INTERVAL


def config_interval() -> float:
    try:
        value = float(os.environ.get("AGENT_TUI_REMOTE_CONFIG_INTERVAL", CONFIG_INTERVAL_S))
    except ValueError:
        return CONFIG_INTERVAL_S
    return value if 0 <= value <= 3600 else CONFIG_INTERVAL_S


def lease_ttl() -> float:
    try:
        value = float(os.environ.get("AGENT_TUI_LEASE_TTL", DEFAULT_TTL_S))
    except ValueError:
        return DEFAULT_TTL_S
    return value if 0.5 <= value <= 3600 else DEFAULT_TTL_S


class AgentLostError(RuntimeError):
    """Another writer holds this agent now (its lease expired and was taken over): this run
    stops writing, so nothing the new holder wrote is overwritten."""


class RemoteLease:
    """``agent.lock`` as a lease object; the interface of :class:`WorkspaceLock`."""

    def __init__(self, objects: S3Objects, agent_key: str, folder: Path) -> None:
        self.objects = objects
        self.key = f"{agent_key}/{LOCK_NAME}"
        self.folder = folder
        self.ttl = lease_ttl()
        self.lease: Lease | None = None
        self.lost = False
        self._etag: str | None = None
        self._confirmed = 0.0  # monotonic time of the last renewal the store accepted
        self._depth = 0
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self._guard = threading.Lock()

    @property
    def held(self) -> bool:
        return self.lease is not None

    def acquire(self) -> None:
        if self.lease is not None:
            self._depth += 1
            return
        lease = Lease.mine(self.ttl, None)
        try:
            etag = self.objects.create(self.key, lease.encode())
        except Exists:
            etag = self._take_over(lease)
        self.lease, self._etag, self._confirmed, self.lost = lease, etag, time.monotonic(), False
        self._depth = 1
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew_loop, name="lease", daemon=True)
        self._renewer.start()

    def _take_over(self, lease: Lease) -> str:
        got = self.objects.get(self.key)
        if got is None:  # released and removed since: try once more
            return self.objects.create(self.key, lease.encode())
        data, etag = got
        current = Lease.parse(data)
        # Its renewal time by the store's clock (a listing names folders, not this one key).
        info = self.objects.head(self.key)
        mtime = info.mtime if info is not None else time.time()
        if current is not None and current.live(mtime):
            raise WorkspaceBusyError(self.folder, current.describe())
        try:
            return self.objects.replace(self.key, lease.encode(), etag)
        except Changed:
            raise WorkspaceBusyError(self.folder, "another writer took it over just now") from None

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                self.renew()
            except AgentLostError:
                return
            except StoreError:
                pass  # the store did not answer: tried again; past the ttl the run is refused

    def renew(self) -> None:
        with self._guard:
            if self.lost or self.lease is None or self._etag is None:
                raise AgentLostError(f"{self.folder}: this run no longer holds the agent")
            try:
                self._etag = self.objects.replace(self.key, self.lease.encode(), self._etag)
            except Changed:
                self.lost = True
                raise AgentLostError(
                    f"{self.folder}: another writer took this agent over (this run's lease "
                    "expired); this run stops writing"
                ) from None
            self._confirmed = time.monotonic()

    def check(self) -> None:
        """Before a write that must not follow a takeover: renew first if the lease may have
        expired meanwhile (the process was stopped, the store slow)."""
        if self.lost:
            raise AgentLostError(f"{self.folder}: another writer took this agent over")
        if time.monotonic() - self._confirmed > self.ttl / 2:
            self.renew()

    def release(self) -> None:
        if self.lease is None:
            return
        self._depth -= 1
        if self._depth > 0:
            return
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
        lease, etag, self.lease = self.lease, self._etag, None
        if not self.lost and etag is not None:
            try:
                self.objects.replace(self.key, lease.released_copy().encode(), etag)
            except StoreError:
                pass  # taken over meanwhile, or unreachable: it expires by itself

    def __enter__(self) -> RemoteLease:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class RemoteAgent:
    """What a run writes to the store for one agent folder, after the local write."""

    def __init__(self, url: str, agent_key: str, folder: Path) -> None:
        self.url = url
        self.objects = S3Objects(url)
        self.agent_key = agent_key
        self.folder = folder
        self.lock = RemoteLease(self.objects, agent_key, folder)
        self.requests = 0
        self._config_etag: str | None = None
        self._config_status: object = None
        self._config_sent = 0.0
        self._checked = False
        self._interval = config_interval()

    def prepare(self) -> None:
        """Before a run: the store must honour conditional writes; the folder is brought down
        (what other hosts wrote before, so the run continues it)."""
        if not self._checked:
            self.objects.check_conditional()
            self._checked = True
        mirror = Mirror(self.url, self.objects)
        try:
            mirror.sync(under=self.agent_key + "/")
        finally:
            mirror.close()

    # ----------------------------------------------------------------- writes
    def journal(self, records: list[dict[str, Any]]) -> None:
        self.lock.check()
        for record in records:
            key = f"{self.agent_key}/{PARTS_FOLDER}/{int(record['seq']):012d}.json"
            try:
                self.objects.create(key, orjson.dumps(record) + b"\n")
            except Exists:
                self.lock.lost = True
                raise AgentLostError(
                    f"{self.folder}: step record {record['seq']} was written by another writer; "
                    "this run stops writing"
                ) from None
            self.requests += 1

    def config(self, document: dict[str, Any], *, force: bool = False) -> bool:
        """PUT the config when the status changed, when forced, or every CONFIG_INTERVAL_S."""
        status = (document.get("_autosave_metadata") or {}).get("status")
        due = time.monotonic() - self._config_sent >= self._interval
        if not (force or due or status != self._config_status):
            return False
        self.lock.check()
        key = f"{self.agent_key}/{CONFIG_NAME}"
        data = dumps(document)
        if self._config_etag is None:
            try:
                self._config_etag = self.objects.create(key, data)
            except Exists:
                got = self.objects.get(key)  # an earlier run's: this run holds the lease
                etag = got[1] if got else ""
                self._config_etag = self._replace_config(key, data, etag)
        else:
            self._config_etag = self._replace_config(key, data, self._config_etag)
        self._config_status, self._config_sent = status, time.monotonic()
        self.requests += 1
        return True

    def _replace_config(self, key: str, data: bytes, etag: str) -> str:
        try:
            return self.objects.replace(key, data, etag)
        except Changed:
            self.lock.lost = True
            raise AgentLostError(
                f"{self.folder}: config.json was rewritten by another writer; this run stops"
            ) from None

    def state(self, name: str, data: bytes) -> None:
        self.lock.check()
        self.objects.put(f"{self.agent_key}/{name}", data)
        self.requests += 1

    def compact(self) -> None:
        """The step objects into ``journal.jsonl`` (replace-if-unchanged), then removed. The
        run's own journal file holds every record (the store's, brought down before the run,
        and its own): it is sent whole, unless it lacks a step object's record."""
        from agent_tui.store.mirror import _last_seq

        self.lock.check()
        key = f"{self.agent_key}/{JOURNAL_NAME}"
        parts = [
            info
            for info in self.objects.list(f"{self.agent_key}/{PARTS_FOLDER}/")
            if part_seq(info.key) is not None
        ]
        if not parts:
            return
        parts.sort(key=lambda info: part_seq(info.key) or 0)
        local = self.folder / JOURNAL_NAME
        newest = part_seq(parts[-1].key) or 0
        got = self.objects.get(key)
        # The file lacks a step (another process of this host replaced it): from the store.
        whole = _last_seq(local) >= newest
        data = local.read_bytes() if whole else self._from_store(got, parts)
        if got is None:
            self.objects.create(key, data)
        else:
            self.objects.replace(key, data, got[1])
        self.objects.delete(info.key for info in parts)
        self.requests += 4

    def _from_store(self, got: tuple[bytes, str] | None, parts: list) -> bytes:
        lines = [] if got is None else [ln for ln in got[0].splitlines() if ln.strip()]
        last = 0
        for line in lines:
            try:
                last = max(last, int(orjson.loads(line).get("seq", 0)))
            except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
                pass
        for info in parts:
            if (part_seq(info.key) or 0) > last:
                part = self.objects.get(info.key)
                self.requests += 1
                if part is not None:
                    lines.extend(ln for ln in part[0].splitlines() if ln.strip())
        return b"\n".join(lines) + b"\n"
