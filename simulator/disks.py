"""Primary storage of a simulated Hyper-V host: its disk files and their chains.

A base ``.vhdx`` per volume and differencing ``.avhdx`` children form a tree; each file
holds the guest blocks written while it was a leaf, and a read goes through the chain from a
leaf up to its base. :class:`PrimaryStorage` keeps the files, refuses a write past its
capacity, and indexes each file's dependants; :class:`~simulator.host.HyperVHost` builds the
VMs and their checkpoints on it.

Storage accounting: a new base ``.vhdx`` allocates ``VHDX_BASE_BYTES``, a new ``.avhdx``
``AVHDX_BASE_BYTES``, and every key a guest writes for the first time into a file allocates
``BLOCK_BYTES`` in it. A volume's ``chain_size`` is the bytes of the differencing files from
its leaf up to (not including) the base ``.vhdx``: 0 while the VM has no checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.drivers import InsufficientSpace, ObjectNotFound

MIB = 2**20
VHDX_BASE_BYTES = 4 * MIB
AVHDX_BASE_BYTES = 1 * MIB
BLOCK_BYTES = 4096
STORAGE_ROOT = "C:\\ClusterStorage\\Volume1"
_NO_SHIFT = (0, 0)


@dataclass
class DiskFile:
    """A ``.vhdx`` (``parent`` None) or ``.avhdx`` file. ``size`` is the virtual size."""

    path: str
    volume_uuid: str
    parent: str | None
    bytes: int
    size: int
    blocks: dict[str, str] = field(default_factory=dict)


class PrimaryStorage:
    """The disk files on one host's primary storage, by path."""

    def __init__(self, storage_root: str = STORAGE_ROOT) -> None:
        self.storage_root = storage_root
        self.disk_files: dict[str, DiskFile] = {}
        self.capacity: int | None = None  # bytes of primary storage; None = unlimited
        self._counter = 0
        # A derived index (never persisted; ``_reindex`` rebuilds it), so that a delete or
        # merge costs in proportion to the chain it touches, not to the host: parent path ->
        # its dependants (an ordered set), kept wherever a file is added, removed or re-parented.
        self._children: dict[str, dict[str, None]] = {}
        # The bytes of every file on storage, kept wherever a file is added, removed or resized
        # (``_resize``), so a sample or a capacity check costs nothing per file.
        self._used = 0
        # What a file with dependants has up its chain, ``(generation, differencing files,
        # their bytes)``, kept while its volume's generation stays the same: a volume's chains
        # change (and its generation moves on) wherever a file with dependants is resized, a
        # file is removed or replaced, or one is re-parented (``_rechained``). A leaf growing
        # or a new file changes nothing kept, so answering after a checkpoint walks one step.
        self._kept: dict[str, tuple[int, int, int]] = {}
        self._generations: dict[str, int] = {}  # volume uuid -> generation, never reset
        # What every kept figure of a volume has moved by since it was kept, ``(files,
        # bytes)``: merging a base's only child into it (the oldest checkpoint deleted) takes
        # one file and its bytes out of every chain of the volume alike, so it shifts them
        # rather than forgetting them (``shift_chains``). ``_bases`` counts each volume's base
        # files: with one, every chain kept for the volume runs through that base's child.
        self._shifts: dict[str, tuple[int, int]] = {}
        self._bases: dict[str, int] = {}

    # ------------------------------------------------------------------ queries

    def files(self, volume_uuid: str | None = None) -> list[str]:
        """Paths of every file on storage (of one volume if given), sorted."""
        return sorted(p for p, f in self.disk_files.items() if volume_uuid in (None, f.volume_uuid))

    def file(self, path: str) -> DiskFile:
        f = self.disk_files.get(path)
        if f is None:
            raise ObjectNotFound(f"The system cannot find the file specified: '{path}'.")
        return f

    def chain(self, path: str) -> list[str]:
        """The file and its ancestors, leaf first."""
        out: list[str] = []
        files = self.disk_files
        cur: str | None = path
        while cur is not None:
            out.append(cur)
            f = files.get(cur)
            cur = f.parent if f is not None else self.file(cur).parent  # file() raises ObjectNotFound
        return out

    def peek(self, path: str, key: str) -> str | None:
        """Read ``key`` through the chain of ``path`` regardless of any VM state."""
        for p in self.chain(path):
            blocks = self.disk_files[p].blocks
            if key in blocks:
                return blocks[key]
        return None

    def used_bytes(self) -> int:
        return self._used

    def chain_size(self, path: str) -> int:
        return self._up_chain(path)[1]

    def chain_depth(self, path: str) -> int:
        """The differencing files from ``path`` up to (not including) its base: 0 for a base."""
        return self._up_chain(path)[0]

    def _up_chain(self, path: str) -> tuple[int, int]:
        """(differencing files, their bytes) from ``path`` up to its base ``.vhdx``."""
        f = self.file(path)
        if f.parent is None:
            return 0, 0
        depth, size = self._kept_chain(f.parent)
        return depth + 1, size + f.bytes

    def _kept_chain(self, path: str) -> tuple[int, int]:
        """:meth:`_up_chain` of ``path``, a file with dependants: walked up to the first file
        whose figures are still kept (a leaf's parent, after a checkpoint), then kept. A chain
        that leaves the volume of ``path`` is walked whole and not kept."""
        files, kept = self.disk_files, self._kept
        f = files.get(path) or self.file(path)  # file() raises ObjectNotFound
        if f.parent is None:
            return 0, 0
        volume = f.volume_uuid
        generation = self._generations.get(volume, 0)
        shift_depth, shift_size = self._shifts.get(volume, _NO_SHIFT)
        hit = kept.get(path)
        if hit is not None and hit[0] == generation:
            return hit[1] + shift_depth, hit[2] + shift_size
        depth = size = 0
        one_volume = True
        while True:
            depth, size = depth + 1, size + f.bytes
            parent = f.parent
            f = files.get(parent) or self.file(parent)
            if f.parent is None:
                break
            if f.volume_uuid != volume:
                one_volume = False
            elif one_volume:
                hit = kept.get(parent)
                if hit is not None and hit[0] == generation:
                    depth, size = depth + hit[1] + shift_depth, size + hit[2] + shift_size
                    break
        if one_volume:
            kept[path] = (generation, depth - shift_depth, size - shift_size)
        return depth, size

    def shift_chains(self, base: DiskFile, child: DiskFile) -> bool:
        """Whether merging ``child`` into ``base`` shifts every chain kept for the volume
        alike (one file and ``child.bytes`` fewer): ``base`` is the volume's only base and
        ``child`` its only dependant. If so the shift is recorded; the caller then moves the
        files without forgetting what is kept (:meth:`_drop_file` with ``rechain=False``)."""
        volume = base.volume_uuid
        alike = (
            base.parent is None
            and child.volume_uuid == volume
            and self._bases.get(volume) == 1
            and len(self._children.get(base.path, ())) == 1
        )
        if alike:
            depth, size = self._shifts.get(volume, _NO_SHIFT)
            self._shifts[volume] = (depth - 1, size - child.bytes)
        return alike

    # ------------------------------------------------------------------ internals

    def _need(self, nbytes: int) -> None:
        if self.capacity is not None and self.used_bytes() + nbytes > self.capacity:
            raise InsufficientSpace(f"There is not enough space on the disk ({self.storage_root}).")

    def _base_path(self, volume_uuid: str) -> str:
        return f"{self.storage_root}\\{volume_uuid}.vhdx"

    def _fresh_path(self, like: DiskFile, ext: str) -> str:
        self._counter += 1
        folder = like.path.rsplit("\\", 1)[0]
        return f"{folder}\\{like.volume_uuid}_{self._counter:08X}.{ext}"

    def _new_avhdx(self, parent: str) -> str:
        p = self.disk_files[parent]
        path = self._fresh_path(p, "avhdx")
        self._add_file(DiskFile(path, p.volume_uuid, parent, AVHDX_BASE_BYTES, p.size))
        return path

    def _restore(
        self, copies: dict[str, DiskFile], needed: set[str], dry_run: bool = False
    ) -> tuple[int, dict[str, str]]:
        """Make the ``needed`` files of ``copies`` (saved files by path, an export's) and their
        ancestors present on storage. Returns (bytes restored, saved path -> live path);
        ``dry_run`` only counts the bytes."""
        wanted: set[str] = set()
        for p in needed:
            cur: str | None = p
            while cur is not None:
                wanted.add(cur)
                cur = copies[cur].parent

        def depth(p: str) -> int:
            parent = copies[p].parent
            return 0 if parent is None else 1 + depth(parent)

        moved: dict[str, str] = {}
        restored = 0
        for p in sorted(wanted, key=depth):
            saved = copies[p]
            parent = moved[saved.parent] if saved.parent else None
            live = self.disk_files.get(p)
            if live is not None and live.parent == parent and live.blocks == saved.blocks:
                moved[p] = p
                continue
            restored += saved.bytes
            if dry_run:
                moved[p] = f"{p} (restored)"
                continue
            ext = "avhdx" if saved.parent else "vhdx"
            path = p if live is None else self._fresh_path(saved, ext)
            self._add_file(DiskFile(path, saved.volume_uuid, parent, saved.bytes, saved.size, dict(saved.blocks)))
            moved[p] = path
        return restored, moved

    # -- the dependants index and the byte total: every change to ``disk_files``, a file's
    # -- ``parent`` or its ``bytes`` goes through these (or, for a merge, ``HyperVHost._merge``)

    def _reindex(self) -> None:
        """Rebuild the index and the byte total from the files (after loading them)."""
        self._children = {}
        self._kept = {}
        self._bases = {}
        self._used = sum(f.bytes for f in self.disk_files.values())
        for p, f in self.disk_files.items():
            if f.parent is not None:
                self._children.setdefault(f.parent, {})[p] = None
            else:
                self._bases[f.volume_uuid] = self._bases.get(f.volume_uuid, 0) + 1

    def _add_file(self, f: DiskFile) -> None:
        old = self.disk_files.get(f.path)
        if old is not None:  # replaced in place (not reached today)
            self._drop_file(old.path)
        self.disk_files[f.path] = f
        self._used += f.bytes
        if f.parent is not None:
            self._children.setdefault(f.parent, {})[f.path] = None
        else:
            self._bases[f.volume_uuid] = self._bases.get(f.volume_uuid, 0) + 1

    def _drop_file(self, path: str, rechain: bool = True) -> DiskFile:
        """``rechain``: forget what the volume's chains keep (not after :meth:`shift_chains`)."""
        f = self.disk_files.pop(path)
        if rechain:
            self._rechained(f)
        else:
            self._kept.pop(path, None)
        self._used -= f.bytes
        if f.parent is not None:
            self._unlink(f.parent, path)
        else:
            self._bases[f.volume_uuid] -= 1
        return f

    def _resize(self, f: DiskFile, nbytes: int) -> None:
        """Set the allocated bytes of ``f``, a file on this storage."""
        # a file with dependants: their chains grow (a base's bytes are in no chain's figures)
        if f.parent is not None and (f.path in self._children or f.path in self._kept):
            self._rechained(f)
        self._used += nbytes - f.bytes
        f.bytes = nbytes

    def _rechained(self, f: DiskFile) -> None:
        """The chains through ``f`` change: forget what is kept for its volume."""
        self._kept.pop(f.path, None)
        self._generations[f.volume_uuid] = self._generations.get(f.volume_uuid, 0) + 1

    def _unlink(self, parent: str, child: str) -> None:
        siblings = self._children[parent]
        del siblings[child]
        if not siblings:
            del self._children[parent]

    def _dependants(self, path: str) -> list[str]:
        return list(self._children.get(path, ()))
