"""A remote root read as a local workspace: its objects copied into the user's cache by ETag.

``Mirror(url).sync()`` lists the root once (a request per 1,000 objects), fetches the objects
whose ETag changed since the last sync, removes what is gone, and returns the agent folders that
changed. The mirror has the remote layout, so every reader of a local workspace reads it
unchanged, as it would a copy made with ``aws s3 sync``. Two things are translated:

- **the journal**: a run on object storage writes one object per step
  (``journal/<seq>.json``, created only if absent) and compacts them into ``journal.jsonl`` at
  its end. The mirror's ``journal.jsonl`` is the compacted one followed by the step objects it
  does not hold yet, in sequence order: what a local run's journal would hold.
- **the lease** (``agent.lock``, a small JSON object renewed by the run): while it is live, this
  process holds the ``flock`` of the mirror folder's ``agent.lock``, so the status readers see a
  live run exactly as they see a local one; once it expires (the writer died) or is released,
  the flock goes and a run that claimed ``running`` reads as interrupted.

Keys from the store are hostile: one with an empty, ``.`` or ``..`` part, a NUL, a part over
255 bytes or more than 12 parts is skipped and counted, never mapped to a path. An object over
:data:`MAX_OBJECT_BYTES` is not copied (counted). Folders are made 0700, files 0600, and JSON
documents and text are masked by the redactor before they reach the disk (swarms writes keys in
plain text).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from agent_tui.format.layout import JOURNAL_NAME, LOCK_NAME
from agent_tui.format.persistence import atomic_write_bytes, dumps
from agent_tui.store.lease import Lease
from agent_tui.store.s3 import ObjectInfo, S3Objects, StoreError

AGENTS_PREFIX = "agents/"

MAX_OBJECT_BYTES = 64 * 1024 * 1024
MAX_PARTS = 12
FETCHERS = 8  # GETs in flight during a sync
PARTS_FOLDER = "journal"  # <agent folder>/journal/<seq>.json: one object per step
MANIFEST = ".mirror.json"
SOURCE = ".source"
TEXT_SUFFIXES = (".txt", ".log", ".md", ".jsonl", ".csv", ".tsv")


def mirror_home() -> Path:
    from platformdirs import user_cache_dir

    return Path(os.environ.get("AGENT_TUI_CACHE_DIR") or user_cache_dir("agent-tui")) / "remote"


def mirror_folder(url: str) -> Path:
    """Where ``url`` is mirrored: one folder per root, named by a hash of the address."""
    digest = hashlib.sha256(url.rstrip("/").encode()).hexdigest()[:20]
    return mirror_home() / digest


def mirror_of(path: str | os.PathLike[str]) -> tuple[str, str] | None:
    """``(url, key)`` when ``path`` lies in a remote root's mirror (its ``.source`` names the
    root), else None: a folder of a mirror is written back to the store it came from."""
    home = mirror_home().resolve()
    try:
        relative = Path(path).resolve().relative_to(home)
    except (OSError, ValueError):
        return None
    if len(relative.parts) < 2:
        return None
    root = home / relative.parts[0]
    try:
        url = (root / SOURCE).read_text().strip()
    except OSError:
        return None
    if not url.startswith("s3://") or mirror_folder(url) != root:
        return None
    return url, "/".join(relative.parts[1:])


def remote_of(root: str | os.PathLike[str]) -> str | None:
    """The s3:// address whose mirror ``root`` is (a run started there writes to the store)."""
    home = mirror_home().resolve()
    try:
        path = Path(root).resolve()
    except OSError:
        return None
    if path.parent != home:
        return None
    try:
        url = (path / SOURCE).read_text().strip()
    except OSError:
        return None
    return url if url.startswith("s3://") and mirror_folder(url) == path else None


def _last_seq(path: Path) -> int:
    """The ``seq`` of the last whole line of a journal file (0 when there is none)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, os.fstat(handle.fileno()).st_size - 65536))
            tail = handle.read()
    except OSError:
        return 0
    for line in reversed(tail.split(b"\n")[:-1]):  # whole lines only
        try:
            return int(orjson.loads(line).get("seq", 0))
        except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
            continue
    return 0


def _seq_of(item: ObjectInfo | str) -> int:
    return part_seq(item if isinstance(item, str) else item.key) or 0


def safe_parts(key: str) -> list[str] | None:
    parts = key.split("/")
    if len(parts) > MAX_PARTS or any(
        not part or part in (".", "..") or "\0" in part or len(part.encode()) > 255
        for part in parts
    ):
        return None
    if parts[0].startswith(".agent-tui") or parts[0] in (MANIFEST, SOURCE):
        return None
    return parts


def part_seq(key: str) -> int | None:
    """The sequence number of a journal step object (``.../journal/000000000012.json``)."""
    parts = key.split("/")
    if len(parts) < 2 or parts[-2] != PARTS_FOLDER or not parts[-1].endswith(".json"):
        return None
    digits = parts[-1][: -len(".json")]
    return int(digits) if digits.isdigit() else None


@dataclass
class SyncResult:
    changed: set[Path] = field(default_factory=set)  # agent folders (mirror paths) that changed
    fetched: int = 0
    removed: int = 0
    skipped_names: int = 0
    skipped_large: int = 0
    objects: int = 0
    requests: int = 0
    problems: list[str] = field(default_factory=list)


class Mirror:
    """One remote root's mirror. :meth:`sync` may be called from any one thread at a time."""

    def __init__(self, url: str, objects: S3Objects | None = None) -> None:
        self.url = url.rstrip("/")
        self.objects = objects or S3Objects(self.url)
        self.folder = mirror_folder(self.url)
        self._etags: dict[str, str] = {}
        self._leases: dict[str, int] = {}  # agent folder key -> fd holding the mirror's flock
        self._lease_bodies: dict[str, tuple[str, Lease | None]] = {}  # key -> (etag, lease)
        self._masker: Any = None
        self._prefetched: dict[str, tuple[bytes, str] | None] = {}
        self._included: dict[str, dict[str, str]] = {}
        self._sync_lock = threading.Lock()
        self._loaded = False

    # ----------------------------------------------------------------- set-up
    def _prepare(self) -> None:
        if self._loaded:
            return
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.folder, 0o700)
        source = self.folder / SOURCE
        if not source.exists():
            source.write_text(self.url + "\n")
        try:
            manifest = orjson.loads((self.folder / MANIFEST).read_bytes())
            self._etags = {str(k): str(v) for k, v in manifest.get("etags", {}).items()}
        except (OSError, orjson.JSONDecodeError, AttributeError):
            self._etags = {}
        self._loaded = True

    # ----------------------------------------------------------------- sync
    def sync(self, under: str = "") -> SyncResult:
        """Bring the mirror up to date: the whole root, or the keys starting with ``under``."""
        with self._sync_lock:
            return self._sync(under)

    def _sync(self, under: str) -> SyncResult:

        self._prepare()
        result = SyncResult()
        listing: dict[str, ObjectInfo] = {}
        for info in self.objects.list(under):
            result.objects += 1
            if safe_parts(info.key) is None:
                result.skipped_names += 1
                continue
            listing[info.key] = info
        result.requests += max(1, -(-result.objects // 1000))  # a page per 1,000 keys
        self._masker = None  # the environment's secrets, read again at each sync
        wanted: list[ObjectInfo] = []
        journals: dict[str, list[ObjectInfo]] = defaultdict(list)  # agent key -> step objects
        leases: dict[str, ObjectInfo] = {}
        for key, info in listing.items():
            parent = key.rsplit("/", 1)[0] if "/" in key else ""
            if part_seq(key) is not None:
                journals[parent.rsplit("/", 1)[0]].append(info)
                continue
            if key.endswith("/" + JOURNAL_NAME):
                journals.setdefault(parent, [])  # composed with the step objects below
                continue
            if key.endswith("/" + LOCK_NAME):
                leases[parent] = info
                continue
            if self._etags.get(key) == info.etag:
                continue
            if info.size > MAX_OBJECT_BYTES:
                result.skipped_large += 1
                continue
            wanted.append(info)
        for info, got in zip(wanted, self._get_many([i.key for i in wanted], result), strict=True):
            if got is None:
                continue  # removed since the listing
            self._write(info.key, _masked(info.key, got[0], self._redactor()))
            self._etags[info.key] = info.etag
            result.fetched += 1
            parent = info.key.rsplit("/", 1)[0] if "/" in info.key else ""
            result.changed.add(self.folder / parent)
        composing = set(journals) | {k for k in self._composed() if k.startswith(under)}
        # The compacted journals that changed, fetched side by side before they are composed.
        changed = [
            f"{k}/{JOURNAL_NAME}"
            for k in composing
            if f"{k}/{JOURNAL_NAME}" in listing
            and self._etags.get(f"{k}/{PARTS_FOLDER}/") != listing[f"{k}/{JOURNAL_NAME}"].etag
        ]
        self._prefetched = dict(zip(changed, self._get_many(changed, result), strict=True))
        # The step objects each composed journal holds, by agent (one pass, not one per agent).
        self._included = defaultdict(dict)
        for key, etag in self._etags.items():
            if part_seq(key) is not None:
                self._included[key.rsplit("/", 2)[0]][key] = etag
        for agent_key in composing:
            if self._compose_journal(agent_key, journals.get(agent_key, []), listing, result):
                result.changed.add(self.folder / agent_key)
        gone = [k for k in self._etags if k.startswith(under) and k not in listing]
        for key in [k for k in gone if not k.endswith("/")]:
            if key.endswith("/" + JOURNAL_NAME) or part_seq(key) is not None:
                continue  # the composed journal's, handled above
            del self._etags[key]
            target = self.folder.joinpath(*key.split("/"))
            try:
                target.unlink()
                result.removed += 1
            except OSError:
                pass
            parent = key.rsplit("/", 1)[0] if "/" in key else ""
            result.changed.add(self.folder / parent)
            self._prune(target.parent)
        self._hold_leases(leases, result, under)
        self._save_manifest()
        return result

    def _composed(self) -> set[str]:
        """The agent folders whose journal the mirror composed (a marker key each)."""
        tail = f"/{PARTS_FOLDER}/"
        return {key[: -len(tail)] for key in self._etags if key.endswith(tail)}

    def _compose_journal(
        self,
        agent_key: str,
        parts: list[ObjectInfo],
        listing: dict[str, ObjectInfo],
        result: SyncResult,
    ) -> bool:
        """The mirror's journal.jsonl: the compacted one and then the newer step objects. A live
        run's new step objects are fetched and appended alone; anything else (a compaction, a
        step object changed or gone) composes the file again."""
        compacted_key = f"{agent_key}/{JOURNAL_NAME}"
        compacted = listing.get(compacted_key)
        marker = f"{agent_key}/{PARTS_FOLDER}/"
        base = compacted.etag if compacted else ""
        included = self._included.get(agent_key, {})
        current = {info.key: info for info in parts}
        if compacted is None and not parts:  # the agent is gone from the store
            for key in [marker, compacted_key, *included]:
                self._etags.pop(key, None)
            target = self.local_path(compacted_key)
            target.unlink(missing_ok=True)
            self._prune(target.parent)
            return True
        same_base = self._etags.get(marker) == base
        kept = all(key in current and current[key].etag == etag for key, etag in included.items())
        newer = sorted((i for k, i in current.items() if k not in included), key=_seq_of)
        if same_base and kept:
            if not newer:
                return False
            last = max((_seq_of(k) for k in included), default=0)
            if _seq_of(newer[0]) > last and self.local_path(compacted_key).is_file():
                self._append_parts(compacted_key, newer, result)
                return True
        self._recompose(agent_key, compacted, sorted(current.values(), key=_seq_of), result)
        for key in included:
            self._etags.pop(key, None)
        self._etags[marker] = base
        return True

    def _recompose(
        self,
        agent_key: str,
        compacted: ObjectInfo | None,
        parts: list[ObjectInfo],
        result: SyncResult,
    ) -> None:
        compacted_key = f"{agent_key}/{JOURNAL_NAME}"
        lines: list[bytes] = []
        last_seq = 0
        if compacted is not None:
            if compacted_key in self._prefetched:
                got = self._prefetched.pop(compacted_key)
            else:
                got = self.objects.get(compacted_key)
                result.requests += 1
            if got is not None:
                for line in got[0].splitlines():
                    if line.strip():
                        lines.append(line)
                        try:
                            last_seq = max(last_seq, int(orjson.loads(line).get("seq", 0)))
                        except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
                            pass
        # Compacted already (the run died before removing its step objects): not again.
        newer = [info for info in parts if _seq_of(info) > last_seq]
        for info, got in zip(newer, self._get_many([i.key for i in newer], result), strict=True):
            if got is not None:
                lines.extend(line for line in got[0].splitlines() if line.strip())
                self._etags[info.key] = info.etag
        data = b"\n".join(lines) + (b"\n" if lines else b"")
        self._write(compacted_key, _masked(compacted_key, data, self._redactor()))
        result.fetched += 1

    def _append_parts(
        self, compacted_key: str, parts: list[ObjectInfo], result: SyncResult
    ) -> None:
        # A run on this host writes the same folder of the mirror (its local journal): what it
        # appended already is not appended twice.
        held = _last_seq(self.local_path(compacted_key))
        for info in [i for i in parts if _seq_of(i) <= held]:
            self._etags[info.key] = info.etag
        parts = [info for info in parts if _seq_of(info) > held]
        lines: list[bytes] = []
        for info, got in zip(parts, self._get_many([i.key for i in parts], result), strict=True):
            if got is None:
                break  # gone since the listing: the rest waits for the next sync, in order
            lines.extend(line for line in got[0].splitlines() if line.strip())
            self._etags[info.key] = info.etag
        if not lines:
            return
        data = _masked(compacted_key, b"\n".join(lines) + b"\n", self._redactor())
        fd = os.open(
            self.local_path(compacted_key), os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC
        )
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        result.fetched += len(lines)

    def _get_many(self, keys: list[str], result: SyncResult) -> list[tuple[bytes, str] | None]:
        """GETs side by side (a first sync of a thousand folders is a few thousand of them)."""
        result.requests += len(keys)
        if len(keys) < 4:
            return [self.objects.get(key) for key in keys]
        with ThreadPoolExecutor(FETCHERS, thread_name_prefix="mirror-get") as pool:
            return list(pool.map(self.objects.get, keys))

    def _redactor(self) -> Any:
        if self._masker is None:
            from agent_tui.redaction import Redactor

            self._masker = Redactor()
        return self._masker

    # ----------------------------------------------------------------- leases
    def _hold_leases(self, leases: dict[str, ObjectInfo], result: SyncResult, under: str) -> None:
        live: set[str] = set()
        for agent_key, info in leases.items():
            known = self._lease_bodies.get(info.key)
            if known is None or known[0] != info.etag:  # read once per renewal, not per poll
                got = self.objects.get(info.key)
                result.requests += 1
                if got is None:
                    continue
                known = self._lease_bodies[info.key] = (got[1], Lease.parse(got[0]))
            lease = known[1]
            if lease is not None and lease.live(info.mtime):
                live.add(agent_key)
                if agent_key not in self._leases:
                    self._take_flock(agent_key, lease.describe())
                    result.changed.add(self.folder / agent_key)
        for agent_key in [k for k in self._leases if k.startswith(under) and k not in live]:
            os.close(self._leases.pop(agent_key))
            result.changed.add(self.folder / agent_key)

    def _take_flock(self, agent_key: str, holder: str) -> None:
        folder = self.folder.joinpath(*agent_key.split("/"))
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)  # another process mirroring this root holds it: live all the same
            return
        os.ftruncate(fd, 0)
        os.write(fd, holder.encode()[:400] + b"\n")
        self._leases[agent_key] = fd

    def remove_folders(
        self, folders: list[Path]
    ) -> tuple[list[Path], list[tuple[Path, str]], list[tuple[Path, str]], int]:
        """Delete every object of each agent folder from the store, then its mirror; returns
        ``(removed, skipped, failures, bytes freed)``. A folder whose run holds a live lease
        (it went on running on another host since the plan) is skipped."""
        removed: list[Path] = []
        skipped: list[tuple[Path, str]] = []
        failures: list[tuple[Path, str]] = []
        freed = 0
        self.sync(under=AGENTS_PREFIX)  # the leases as they are now
        for folder in folders:
            try:
                key = self.key_of(folder)
            except ValueError:
                failures.append((folder, "not a folder of this root"))
                continue
            if key in self._leases:
                skipped.append((folder, "running (its lease is live)"))
                continue
            try:
                infos = list(self.objects.list(key + "/"))
                self.objects.delete(info.key for info in infos)
            except StoreError as exc:
                failures.append((folder, str(exc)))
                continue
            freed += sum(info.size for info in infos)
            for stale in [k for k in self._etags if k.startswith(key + "/")]:
                del self._etags[stale]
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        self._save_manifest()
        return removed, skipped, failures, freed

    def upload_folder(self, folder: Path) -> int:
        """A folder made in the mirror (a fork) written to the store, each file only if its key
        is absent; how many objects were written."""
        key = self.key_of(folder)
        written = 0
        for path in sorted(folder.rglob("*")):
            if path.is_symlink() or not path.is_file() or path.name == LOCK_NAME:
                continue
            relative = path.relative_to(folder).as_posix()
            data = path.read_bytes()
            self._etags[f"{key}/{relative}"] = self.objects.create(f"{key}/{relative}", data)
            written += 1
        self._save_manifest()
        return written

    def close(self) -> None:
        for fd in self._leases.values():
            os.close(fd)
        self._leases.clear()

    # ----------------------------------------------------------------- files
    def local_path(self, key: str) -> Path:
        return self.folder.joinpath(*key.split("/"))

    def key_of(self, path: Path) -> str:
        """The object key of a mirror path (raises ValueError outside the mirror)."""
        return Path(path).relative_to(self.folder).as_posix()

    def _write(self, key: str, data: bytes) -> None:
        target = self.local_path(key)
        folder = target.parent
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if folder.is_symlink() or not folder.resolve().is_relative_to(self.folder.resolve()):
            raise OSError(f"mirror folder {folder} is a link: not written")
        atomic_write_bytes(target, data, durable=False)
        os.chmod(target, 0o600, follow_symlinks=False)

    def _prune(self, folder: Path) -> None:
        """Remove folders the removals left empty (up to the mirror's root)."""
        root = self.folder
        while folder != root and root in folder.parents:
            try:
                names = os.listdir(folder)
            except OSError:
                return
            if names == [LOCK_NAME] and self.key_of(folder) not in self._leases:
                os.unlink(folder / LOCK_NAME)
                names = []
            if names:
                return
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    def _save_manifest(self) -> None:
        atomic_write_bytes(
            self.folder / MANIFEST, dumps({"url": self.url, "etags": self._etags}), durable=False
        )

    def forget(self) -> None:
        """Drop the mirror (the remote is untouched)."""
        self.close()
        shutil.rmtree(self.folder, ignore_errors=True)
        self._etags, self._loaded = {}, False


def _masked(key: str, data: bytes, redactor: Any) -> bytes:
    """JSON documents and text as the redactor masks them; other bytes as they are."""
    if key.endswith(".json"):
        try:
            return dumps(redactor.redact(orjson.loads(data)))
        except orjson.JSONDecodeError:
            pass  # not JSON after all: shown as the file it is (a broken config stays broken)
    if key.endswith((".json", *TEXT_SUFFIXES)) or b"\0" not in data[:8192]:
        try:
            return redactor.redact_text(data.decode("utf-8")).encode("utf-8")
        except UnicodeDecodeError:
            return data
    return data


def now() -> float:
    return time.time()
