"""How a running ``hvsnap serve`` is found from its home.

While it serves, the server keeps ``<home>/serve.json``: ``{"endpoint": URL, "pid": N}``,
written once the API answers and removed when it stops. The CLI reads it to send its
commands to that server (signed with the caller's API keys) instead of opening the home's
simulated host, which the server holds. A record whose process is gone (a ``kill -9``)
is ignored, so a crashed server never blocks the CLI.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

RECORD = "serve.json"


@dataclass(frozen=True, slots=True)
class Served:
    endpoint: str
    pid: int


def publish(home: Path, endpoint: str) -> Path:
    """Record that this process serves ``home`` at ``endpoint`` (owner-only file)."""
    path = home / RECORD
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"endpoint": endpoint, "pid": os.getpid()}, out)
    tmp.replace(path)
    return path


def withdraw(home: Path) -> None:
    """Remove the record if this process wrote it."""
    found = served(home)
    if found is not None and found.pid == os.getpid():
        with contextlib.suppress(FileNotFoundError):
            (home / RECORD).unlink()


def served(home: Path) -> Served | None:
    """The server serving ``home``, if its process still runs."""
    try:
        raw = json.loads((home / RECORD).read_text())
        record = Served(str(raw["endpoint"]), int(raw["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return record if _alive(record.pid) else None


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    except OSError:
        return False
    return True
