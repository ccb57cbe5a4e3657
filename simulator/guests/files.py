"""A guest's files, kept in its VM's ROOT disk chain on the simulated host.

Nothing here touches the real filesystem: a guest file is a block of the VM's disk
(:meth:`HyperVHost.write`), read through the chain from the active leaf up to the base
``.vhdx``, so a checkpoint captures the files and a revert brings them back.

How paths map onto disk keys (one bijection, so ``writeGuestData``/``readGuestData`` and the
guest shell see the same data): a file in root's home directory ``/root`` is the key of its
path relative to ``/root`` (``/root/marker`` is the key ``marker``); any other file is the
key of its absolute path (``/tmp/x``). Paths are normalised first (``/root/../etc`` is
``/etc``), and ``..`` never climbs above ``/``: there is no way out of the VM's own data.

Three kinds of value are reserved (a shell word cannot hold a NUL byte, so no file written
through the shell can look like one): a deleted file (a file removed while an older disk
file of the chain still has it), a directory made by ``mkdir``, and the data ``dd`` wrote
(its seed and length: the bytes are generated on read, never stored).
"""

from __future__ import annotations

import hashlib
import posixpath
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulator.host import HyperVHost

HOME = "/root"
DELETED = "\x00deleted"
DIRECTORY = "\x00dir"
_DD = "\x00dd:"
#: Directories every guest has; they cannot be removed.
SYSTEM_DIRS = ("/", "/bin", "/dev", "/etc", "/home", "/proc", "/root", "/tmp", "/usr", "/var")


def normalise(path: str, cwd: str = HOME) -> str:
    """The absolute, normalised form of ``path`` seen from ``cwd`` (``..`` stops at ``/``)."""
    joined = posixpath.join(cwd, path)
    parts: list[str] = []
    for part in joined.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
        else:
            parts.append(part)
    return "/" + "/".join(parts)


def key_of(path: str) -> str:
    """The disk key of a normalised absolute path."""
    return path[len(HOME) + 1 :] if path.startswith(HOME + "/") else path


def path_of(key: str) -> str:
    """The guest path of a disk key (the inverse of :func:`key_of` for keys it makes)."""
    return normalise(key, "/") if key.startswith("/") else normalise(key, HOME)


class TooLarge(Exception):
    """A file too large for the guest to read back (``dd`` data past :data:`MAX_READ`)."""


#: The most bytes of ``dd`` data a read generates.
MAX_READ = 64 * 2**20


def content_of(value: str) -> bytes | None:
    """The bytes a stored value stands for; None for a deleted file or a directory."""
    if value in (DELETED, DIRECTORY):
        return None
    if value.startswith(_DD):
        seed, size = (int(x) for x in value[len(_DD) :].split(":"))
        if size > MAX_READ:
            raise TooLarge(f"{size} bytes")
        return bytes(size) if seed < 0 else random.Random(seed).randbytes(size)
    return value.encode("utf-8", "surrogateescape")


def text_of(value: str | None) -> str | None:
    """What ``readGuestData`` answers for a stored value: the text of a file, else None."""
    try:
        data = None if value is None else content_of(value)
    except TooLarge:
        return None
    return None if data is None else data.decode("utf-8", "replace")


def dd_size(value: str | None) -> int:
    """The bytes a ``dd`` file stands for (0 for anything else)."""
    if value is None or not value.startswith(_DD):
        return 0
    return int(value.rsplit(":", 1)[1])


@dataclass(frozen=True)
class Entry:
    path: str
    directory: bool
    size: int


class GuestFiles:
    """The files of the guest ``vm`` on ``host``: its ROOT disk (the first attached).

    The VM must be Running for every write (the host refuses otherwise); reads go through
    the chain of the active leaf. Callers hold the host's lock.
    """

    def __init__(self, host: HyperVHost, vm: str) -> None:
        self.host = host
        self.vm = vm

    # ------------------------------------------------------------------ reading

    def _leaf(self) -> str:
        disks = self.host.vm(self.vm).disks
        if not disks:
            raise FileNotFoundError("the VM has no disk")
        return next(iter(disks.values()))

    def _visible(self) -> dict[str, str]:
        """Every key of the chain with its newest value, deleted files included."""
        merged: dict[str, str] = {}
        for p in reversed(self.host.chain(self._leaf())):
            merged.update(self.host.disk_files[p].blocks)
        return merged

    def value(self, path: str) -> str | None:
        """The stored value of ``path`` (None when it does not exist)."""
        value = self.host.peek(self._leaf(), key_of(path))
        return None if value == DELETED else value

    def read(self, path: str) -> bytes | None:
        """The content of the file ``path``; None when there is no such file."""
        value = self.value(path)
        return None if value is None else content_of(value)

    def entries(self) -> dict[str, Entry]:
        """Every file and directory of the guest, by path (directories implied by a file's
        path included)."""
        out = {d: Entry(d, True, 0) for d in SYSTEM_DIRS}
        for key, value in self._visible().items():
            if value == DELETED:
                continue
            path = path_of(key)
            directory = value == DIRECTORY
            size = 0 if directory else (dd_size(value) or len(value.encode("utf-8", "surrogateescape")))
            out[path] = Entry(path, directory, size)
            parent = posixpath.dirname(path)
            while parent not in out:
                out[parent] = Entry(parent, True, 0)
                parent = posixpath.dirname(parent)
        return out

    def is_dir(self, path: str) -> bool:
        entry = self.entries().get(path)
        return entry is not None and entry.directory

    def children(self, path: str) -> list[Entry]:
        """The entries directly inside the directory ``path``, sorted by name."""
        found = [e for p, e in self.entries().items() if p != "/" and posixpath.dirname(p) == path]
        return sorted(found, key=lambda e: e.path)

    def digest(self, path: str, algorithm: str) -> str | None:
        data = self.read(path)
        return None if data is None else hashlib.new(algorithm, data).hexdigest()

    def used_bytes(self) -> int:
        """Bytes the ROOT disk's chain occupies (base and differencing files)."""
        return sum(self.host.disk_files[p].bytes for p in self.host.chain(self._leaf()))

    def disk_size(self) -> int:
        """The ROOT disk's virtual size."""
        return self.host.disk_files[self._leaf()].size

    # ------------------------------------------------------------------ writing

    def write(self, path: str, data: str) -> None:
        self.host.write(self.vm, key_of(path), data)

    def mkdir(self, path: str) -> None:
        self.host.write(self.vm, key_of(path), DIRECTORY)

    def remove(self, path: str) -> None:
        """Remove one file or (empty or not: the caller decides) one directory marker."""
        self.host.write(self.vm, key_of(path), DELETED)

    def fill(self, path: str, nbytes: int, seed: int) -> None:
        """Write ``nbytes`` of seeded random data (``dd``): the leaf grows by as many bytes,
        less what this file already held in the leaf."""
        leaf = self.host.disk_files[self._leaf()]
        before = dd_size(leaf.blocks.get(key_of(path)))
        grow = max(0, nbytes - before) if key_of(path) in leaf.blocks else nbytes
        self.host.write(self.vm, key_of(path), f"{_DD}{seed}:{nbytes}", grow=grow)
