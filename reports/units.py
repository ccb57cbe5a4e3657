"""Human units for numbers in reports and terminals: bytes, durations, shares."""

from __future__ import annotations

_BYTES = (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10))


def size(nbytes: float | None) -> str:
    """``3469699548498`` -> ``"3.16 TiB"``; ``None`` -> ``"-"``."""
    if nbytes is None:
        return "-"
    for unit, scale in _BYTES:
        if abs(nbytes) >= scale:
            return f"{nbytes / scale:.3g} {unit}" if abs(nbytes) < 1000 * scale else f"{nbytes / scale:,.0f} {unit}"
    return f"{nbytes:.0f} B"


def duration(seconds: float | None) -> str:
    """Seconds in the unit that reads best: ``0.0123`` -> ``"12.3 ms"``, ``5400`` -> ``"1.5 h"``."""
    if seconds is None:
        return "-"
    s = abs(seconds)
    if s == 0:
        return "0 s"
    if s < 1:
        return f"{seconds * 1000:.3g} ms"
    if s < 120:
        return f"{seconds:.3g} s"
    if s < 2 * 3600:
        return f"{seconds / 60:.3g} min"
    if s < 2 * 86400:
        return f"{seconds / 3600:.3g} h"
    return f"{seconds / 86400:.3g} d"


def share(part: float, whole: float) -> str:
    """``part / whole`` as a percentage; ``"-"`` when ``whole`` is 0."""
    if not whole:
        return "-"
    return f"{100 * part / whole:.3g} %"


def number(value: float | None) -> str:
    """A count or a measure with at most 3 significant digits past the integer part."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
