"""Debian's Chromium for the browser tests and benchmarks: where it is and how it starts.

Nothing is downloaded here (never ``playwright install``): Playwright drives the packaged
browser, which ``scripts/test.sh`` installs. Without the background-networking flags its
connections are refused, many at a time, by this machine's closed network.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def require() -> None:
    """Skip a browser test where Chromium is missing; under CI that is a failure instead."""
    if not CHROMIUM.exists():
        why = f"{CHROMIUM} is missing (scripts/test.sh installs Debian's chromium)"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
