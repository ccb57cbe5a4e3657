"""The emulated Hyper-V host on 127.0.0.1 (ephemeral port, a thread, NTLM with message
encryption) and live drivers connected to it. Guest data is not on the wire: tests that
need it read the emulator's ``HyperVHost`` (``endpoint.host``) directly, in this process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from live_driver.driver import PowerShellHyperVDriver
from simulator.host import HyperVHost
from simulator.psrp_endpoint.endpoint import EmulatedHost


@pytest.fixture
def endpoint() -> Iterator[EmulatedHost]:
    with EmulatedHost(HyperVHost(), username="tester", password="S3cret-pass") as em:
        yield em


@pytest.fixture
def driver(endpoint: EmulatedHost) -> Iterator[PowerShellHyperVDriver]:
    with PowerShellHyperVDriver(**endpoint.driver_config(merge_poll_seconds=0.01, operation_timeout=5)) as d:
        yield d
