"""Which file system a path is on, from ``/proc/self/mountinfo`` (Linux).

The watcher asks it: inotify only hears of changes made through this host's kernel, so on a
network file system it never sees what other hosts write, and a tree there must be polled.

A line of mountinfo (``man 5 proc``)::

    36 35 98:0 /mnt1 /mnt/parent\\040dir rw,noatime master:1 - ext3 /dev/root rw,errors=continue
    id par dev root  mount point        options    optional... - type source super options

The mount point is octal-escaped (``\\040`` a space, ``\\011`` a tab, ``\\012`` a newline,
``\\134`` a backslash); the optional fields are any number, ended by a lone ``-``; the type is
the first field after it. A path is on the mount with the longest mount point that holds it,
on whole components (``/mnt/share`` holds ``/mnt/share/a``, not ``/mnt/shared``); of mounts
on the same point, the last listed is the one on top.

What counts as network (:func:`is_network_filesystem`): the kernel's network and cluster file
systems (NFS, SMB, 9p, Ceph, Lustre, GPFS, AFS ...), host folders shared into a VM (virtiofs,
vboxsf), and every FUSE file system (``fuse.<name>``) except those in :data:`LOCAL_FUSE`, whose
tree only changes through the mount (the document portal, lxcfs, fuse-overlayfs, squashfuse,
encrypted folders ...): a FUSE file system's daemon changes the tree behind the kernel's back
(sshfs, s3fs, rclone, gcsfuse, juicefs; bindfs and mergerfs too, whose folders underneath can
be written directly), so an unknown one is polled rather than left silent. A plain ``fuse`` or ``fuseblk`` (no subtype: ntfs-3g,
exfat, or a daemon that names none) counts as local unless its source names a known network
daemon (mountpoint-s3 mounts as ``fuse`` from source ``mountpoint-s3``).

Nothing here raises: no mountinfo (not Linux, no /proc) or an unreadable one is "don't know"
(``None``, ``False``).
"""

from __future__ import annotations

import os
import re
from typing import NamedTuple

MOUNTINFO = "/proc/self/mountinfo"

NETWORK_TYPES = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smb2", "smbfs", "ncpfs", "9p", "v9fs", "virtiofs",
    "vboxsf", "vmhgfs", "prl_fs", "drvfs", "ceph", "glusterfs", "lustre", "gpfs", "afs",
    "openafs", "coda", "ocfs2", "gfs2", "beegfs", "orangefs", "pvfs2", "davfs", "wekafs",
})  # fmt: skip

# FUSE file systems whose tree only changes through this host's kernel (or never changes).
# Not views of other folders (bindfs, mergerfs, unionfs): what is written in the folder itself,
# not through the mount, inotify on the mount never hears of.
LOCAL_FUSE = frozenset({
    "portal", "lxcfs", "fuse-overlayfs", "squashfuse", "snapfuse", "appimage", "gocryptfs",
    "encfs", "cryfs", "securefs", "ntfs-3g", "ntfs", "exfat", "fuse-zip", "archivemount",
    "jmtpfs",
})  # fmt: skip

# Sources of a plain ``fuse`` mount that name a network daemon.
NETWORK_FUSE_SOURCES = frozenset({
    "mountpoint-s3", "s3fs", "goofys", "sshfs", "rclone", "gcsfuse", "blobfuse", "blobfuse2",
    "juicefs", "davfs2", "ceph-fuse", "glusterfs", "seaweedfs", "cvmfs2",
})  # fmt: skip


class Mount(NamedTuple):
    point: str
    fstype: str
    source: str


_ESCAPE = re.compile(r"\\([0-7]{3})")


def unescape(field: str) -> str:
    """A mountinfo field with its octal escapes (``\\040`` ...) turned back into characters."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse_mountinfo(text: str) -> list[Mount]:
    """The mounts of a mountinfo text, in its order; malformed lines are skipped."""
    mounts: list[Mount] = []
    for line in text.splitlines():
        fields = line.split(" ")
        if len(fields) < 7:
            continue
        try:
            dash = fields.index("-", 6)  # the optional fields (from the 7th) end at a lone "-"
        except ValueError:
            continue
        if dash + 1 >= len(fields) or not fields[dash + 1]:
            continue
        source = unescape(fields[dash + 2]) if dash + 2 < len(fields) else ""
        mounts.append(Mount(unescape(fields[4]), unescape(fields[dash + 1]), source))
    return mounts


def _holds(point: str, path: str) -> bool:
    if point == "/":
        return path.startswith("/")
    point = point.rstrip("/")
    return path == point or path.startswith(point + "/")


def mount_of(path: str | os.PathLike[str], mountinfo: str = MOUNTINFO) -> Mount | None:
    """The mount ``path`` (resolved: links followed, made absolute) is on; None when the mount
    table cannot be read or none holds it."""
    try:
        with open(mountinfo, encoding="utf-8", errors="surrogateescape") as file:
            mounts = parse_mountinfo(file.read())
    except (OSError, ValueError):
        return None
    try:
        resolved = os.path.realpath(path)
    except (OSError, ValueError):
        resolved = os.path.abspath(path)
    best: Mount | None = None
    for mount in mounts:  # the longest point wins; of equal ones the last (it is on top)
        if _holds(mount.point, resolved) and (
            best is None or len(mount.point.rstrip("/")) >= len(best.point.rstrip("/"))
        ):
            best = mount
    return best


def filesystem_type(path: str | os.PathLike[str], mountinfo: str = MOUNTINFO) -> str | None:
    """The type of the file system ``path`` is on (``ext4``, ``nfs4``, ``fuse.sshfs`` ...), or
    None when it cannot be told."""
    mount = mount_of(path, mountinfo)
    return None if mount is None else mount.fstype


def is_network_type(fstype: str, source: str = "") -> bool:
    """Whether a file system of type ``fstype`` (mounted from ``source``) may change without
    this host's kernel hearing of it (see the module's docstring for the rules)."""
    fstype = fstype.lower()
    if fstype in NETWORK_TYPES:
        return True
    if fstype.startswith("fuse."):
        return fstype.removeprefix("fuse.") not in LOCAL_FUSE
    if fstype in ("fuse", "fuseblk"):
        return os.path.basename(source.split(":", 1)[0]).lower() in NETWORK_FUSE_SOURCES
    return False


def is_network_filesystem(path: str | os.PathLike[str], mountinfo: str = MOUNTINFO) -> bool:
    """Whether ``path`` is on a network file system, where inotify misses other hosts' writes;
    False when it cannot be told."""
    mount = mount_of(path, mountinfo)
    return mount is not None and is_network_type(mount.fstype, mount.source)
