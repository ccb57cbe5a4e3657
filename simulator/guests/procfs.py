"""What a guest shows of its VM: ``/proc`` files, ``df``, ``uptime`` and ``ls -l`` lines.

Pure functions of :class:`Facts` (the VM's name, its current service offering, its
uptime) and of disk sizes; nothing here reads the real machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from simulator.guests.files import Entry


@dataclass
class Facts:
    """What the guest knows of its VM: asked fresh for every command."""

    hostname: str
    cpus: int
    memory_mib: int
    cpu_mhz: int
    uptime: float


_VIRTUAL = ("/proc/cpuinfo", "/proc/meminfo", "/proc/uptime", "/etc/hostname")
_UNITS = {"": 1, "c": 1, "w": 2, "b": 512, "k": 1024, "K": 1024, "M": 2**20, "G": 2**30}


def virtual_file(path: str, facts: Facts) -> bytes | None:
    """The content of a virtual file, or None when ``path`` is not one."""
    if path == "/proc/cpuinfo":
        return cpuinfo(facts).encode()
    if path == "/proc/meminfo":
        return meminfo(facts).encode()
    if path == "/proc/uptime":
        return f"{facts.uptime:.2f} {facts.uptime * facts.cpus:.2f}\n".encode()
    if path == "/etc/hostname":
        return f"{facts.hostname}\n".encode()
    return None


def virtual_entry(path: str) -> Entry | None:
    return Entry(path, False, 0) if path in _VIRTUAL else None


def proc_entries() -> list[Entry]:
    return [Entry(p, False, 0) for p in _VIRTUAL if p.startswith("/proc/")]


def cpuinfo(facts: Facts) -> str:
    """One block per virtual processor, as Linux prints it on a Hyper-V guest."""
    blocks = []
    for i in range(facts.cpus):
        blocks.append(
            f"processor\t: {i}\n"
            "vendor_id\t: GenuineIntel\n"
            "cpu family\t: 6\n"
            "model\t\t: 85\n"
            "model name\t: Intel(R) Xeon(R) Platinum 8272CL CPU @ 2.60GHz\n"
            f"cpu MHz\t\t: {facts.cpu_mhz:.3f}\n"
            f"physical id\t: 0\n"
            f"siblings\t: {facts.cpus}\n"
            f"core id\t\t: {i}\n"
            f"cpu cores\t: {facts.cpus}\n"
            "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov hypervisor\n"
        )
    return "\n".join(blocks) + "\n"


def meminfo(facts: Facts) -> str:
    """Memory as Linux reports it: ``MemTotal`` is the offering's memory."""
    total = facts.memory_mib * 1024
    free = total * 3 // 4
    rows = [
        ("MemTotal", total),
        ("MemFree", free),
        ("MemAvailable", free + total // 16),
        ("Buffers", total // 64),
        ("Cached", total // 16),
        ("SwapTotal", 0),
        ("SwapFree", 0),
    ]
    return "".join(f"{name + ':':<16}{kb:>8} kB\n" for name, kb in rows)


def uptime_line(facts: Facts) -> str:
    seconds = int(facts.uptime)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    span = f"{hours}:{minutes:02d}" if hours else f"{minutes} min"
    if days:
        span = f"{days} day{'s' if days > 1 else ''}, {span}"
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f" {clock} up {span},  1 user,  load average: 0.00, 0.00, 0.00\n"


def df(size: int, used: int, human: bool) -> str:
    """``df`` of the root filesystem: the ROOT disk's virtual size and the bytes its chain uses."""
    used = min(used, size)
    if human:
        return (
            "Filesystem      Size  Used Avail Use% Mounted on\n"
            f"/dev/sda1 {_human(size):>9} {_human(used):>5} {_human(size - used):>5} "
            f"{_percent(used, size):>3}% /\n"
        )
    k = 1024
    return (
        "Filesystem     1K-blocks    Used Available Use% Mounted on\n"
        f"/dev/sda1 {size // k:>14} {used // k:>7} {(size - used) // k:>9} {_percent(used, size):>3}% /\n"
    )


def long_line(entry: Entry, name: str | None) -> str:
    """An ``ls -l`` line; ``name`` overrides the entry's base name."""
    mode = "drwxr-xr-x" if entry.directory else "-rw-r--r--"
    size = 4096 if entry.directory else entry.size
    shown = name if name is not None else entry.path.rsplit("/", 1)[-1]
    return f"{mode} 1 root root {size:>8} Jan  1 00:00 {shown}\n"


def size_of(text: str) -> int:
    """A ``dd`` size (``512``, ``4k``, ``1M``, ``2G``)."""
    m = re.fullmatch(r"(\d{1,12})([cwbkKMG]?)", text)
    if m is None:
        raise ValueError(text)
    return int(m.group(1)) * _UNITS[m.group(2)]


def _percent(used: int, size: int) -> int:
    return -(-used * 100 // size) if size else 0


def _human(n: int) -> str:
    value = float(n)
    for unit in ("", "K", "M", "G", "T"):
        if value < 1024:
            return f"{value:.0f}{unit}" if unit == "" or value >= 10 else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.1f}P"
