"""hvsnap's pytest plugin (entry point ``pytest11: hvsnap``): backend selection, the host
options, and ``hvsnap_cloud``, the fresh cloud each scenario (or test) runs against.

``pytest --driver sim`` (the default) runs every scenario against a fresh cloud on an
in-memory simulated host; ``pytest --driver live --hyperv-host H ...`` runs the same
scenarios against a real Hyper-V host. Two tags gate scenarios on the backend's powers:

- ``@sim-only``: needs what only the simulator has (fault injection, jumping time); skipped
  on live at collection, with the reason;
- ``@guest-data``: reads or writes data inside the guest; skipped unless the guests are
  reachable over SSH (``hvsnap_guests``: the simulator's and the emulated host's always are,
  a live host's with ``--guest-port``) or the driver has ``capabilities.guest_data``.

The simulated and emulated hosts run their guests (``simulator.guests``) on a loopback
range and an SSH port chosen at run time, so parallel runs never collide.

The cloud's driver sits behind an :class:`ObservedHost`, which records every host command
(wall time, and simulated time when the driver keeps a clock) for the Allure report, and
can run something while a command is in flight (for the concurrency scenarios). The steps'
vocabulary over it is ``features/steps/vocabulary.py``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from harness.domain.errors import CloudError
from harness.drivers import (
    A,
    Capabilities,
    Command,
    HyperVDriver,
    load_driver,
)
from harness.jobs.runners import ThreadRunner
from harness.service.cloud import Cloud, PristineDatabase, cloud_on

Obj = dict[str, Any]
SIM_ONLY, GUEST_DATA, LONG_TREE = "sim-only", "guest-data", "long-tree"
LIVE_DRIVER_MISSING = (
    "--driver live needs the live Hyper-V driver (live_driver.driver), which is not "
    "available yet; run the features with --driver sim"
)


# --------------------------------------------------------------------------- options


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hvsnap", "hvsnap backend (features and tests)")
    group.addoption("--driver", default="sim", choices=("sim", "live"), help="host backend (default: sim)")
    group.addoption("--hyperv-host", help="live: the Hyper-V host's name or address, HOST or HOST:PORT")
    group.addoption(
        "--hyperv-user", help="live: the account to connect as (DOMAIN\\user; default: $HVSNAP_HYPERV_USERNAME)"
    )
    group.addoption("--hyperv-password", help="live: its password (default: $HVSNAP_HYPERV_PASSWORD)")
    group.addoption(
        "--hyperv-auth",
        default="negotiate",
        choices=("negotiate", "ntlm", "kerberos", "credssp", "basic", "certificate"),
        help="live: WinRM authentication (default: negotiate)",
    )
    group.addoption("--hyperv-port", type=int, help="live: WinRM port (default: 5986 with TLS, 5985 without)")
    group.addoption(
        "--hyperv-no-tls", action="store_true", help="live: plain HTTP WinRM (default on port 5985)"
    )
    group.addoption("--hyperv-insecure", action="store_true", help="live: do not validate the TLS certificate")
    group.addoption("--guest-port", type=int, help="live: the guests answer SSH on this port (@guest-data runs)")
    group.addoption("--guest-user", default="root", help="live: the guests' SSH user (default: root)")
    group.addoption("--guest-password", help="live: the guests' SSH password (default: $HVSNAP_GUEST_PASSWORD)")
    group.addoption(
        "--hyperv-cluster", action="store_true", help="live: a failover cluster node (revert via the cluster)"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{SIM_ONLY}: needs the simulator's powers (faults, time); skipped on live")
    config.addinivalue_line("markers", f"{GUEST_DATA}: reads guest data; skipped on drivers without it")
    if config.getoption("--driver") == "live":
        try:
            import live_driver.driver  # noqa: F401
        except ImportError:
            raise pytest.UsageError(LIVE_DRIVER_MISSING) from None
        # no --hyperv-host, or "emulated": the emulated host on loopback (hvsnap_emulator)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--driver") == "sim":
        return
    skip = pytest.mark.skip(reason="@sim-only: needs the simulator's fault injection or simulated time")
    long = pytest.mark.skip(reason="@long-tree: over WinRM only the spec's A -> {B, C} tree runs")
    for item in items:
        if item.get_closest_marker(SIM_ONLY):
            item.add_marker(skip)
        elif item.get_closest_marker(LONG_TREE):
            item.add_marker(long)


@dataclass(frozen=True)
class GuestAccess:
    """How the steps reach the guests over SSH: every guest's port and login (the address
    of each VM comes from the host inventory)."""

    port: int
    username: str
    password: str


@dataclass(frozen=True)
class Backend:
    """The driver name and its configuration, from the command line."""

    name: str
    config: dict[str, Any] = field(default_factory=dict)
    emulator: Any = None  # the EmulatedHost serving --driver live, when no real host is given
    guests: GuestAccess | None = None


def _guest_network() -> tuple[str, int]:
    """A loopback range and a port for this run's guests, chosen at run time: a random
    /24 inside 127.0.0.0/8 (never 127.0.0.0/24) and a port free on 127.0.0.1 now."""
    import random
    import socket

    rng = random.SystemRandom()
    cidr = f"127.{rng.randrange(16, 255)}.{rng.randrange(0, 256)}.0/24"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    return cidr, port


def _sim_guests() -> tuple[dict[str, Any], GuestAccess]:
    from simulator.guests.network import TEMPLATE_PASSWORD, GuestConfig

    cidr, port = _guest_network()
    config = {"guests": GuestConfig(port=port, fallback_port=0), "guest_range": cidr}
    return config, GuestAccess(port, "root", TEMPLATE_PASSWORD)


@pytest.fixture(scope="session")
def hvsnap_emulator(pytestconfig: pytest.Config) -> Iterator[Any]:
    """``--driver live`` with no ``--hyperv-host`` (or ``emulated``): the simulated host served
    over WinRM/PSRP on 127.0.0.1 (``simulator.psrp_endpoint``), NTLM with encryption."""
    host = pytestconfig.getoption("--hyperv-host")
    if pytestconfig.getoption("--driver") != "live" or host not in (None, "emulated"):
        yield None
        return
    from simulator.psrp_endpoint.endpoint import EmulatedHost

    guests, _ = _sim_guests()
    with EmulatedHost(**guests) as em:
        yield em


@pytest.fixture(scope="session")
def hvsnap_backend(pytestconfig: pytest.Config, hvsnap_emulator: Any) -> Backend:
    name = pytestconfig.getoption("--driver")
    if name == "sim":
        guests, sim_access = _sim_guests()
        return Backend("sim", {"state_file": None, **guests}, guests=sim_access)
    if hvsnap_emulator is not None:
        from simulator.guests.network import TEMPLATE_PASSWORD

        emulated = GuestAccess(hvsnap_emulator.guests.config.port, "root", TEMPLATE_PASSWORD)
        return Backend("live", hvsnap_emulator.driver_config(merge_poll_seconds=0.01), hvsnap_emulator, emulated)
    opt = pytestconfig.getoption
    port = opt("--guest-port")
    password = opt("--guest-password") or os.environ.get("HVSNAP_GUEST_PASSWORD", "")
    access = GuestAccess(int(port), opt("--guest-user"), password) if port else None
    return Backend(
        "live",
        {
            "host": opt("--hyperv-host"),
            "username": opt("--hyperv-user"),
            "password": opt("--hyperv-password"),
            "auth": opt("--hyperv-auth"),
            "port": opt("--hyperv-port"),
            "ssl": False if opt("--hyperv-no-tls") else None,  # None: by the port (5985 is HTTP)
            "cert_validation": not opt("--hyperv-insecure"),
            "clustered": opt("--hyperv-cluster"),
        },
        guests=access,
    )


@pytest.fixture(scope="session")
def hvsnap_databases() -> Iterator[PristineDatabase]:
    dbs = PristineDatabase()
    yield dbs
    dbs.close()


@contextmanager
def scenario_cloud(
    dbs: PristineDatabase, backend: Backend, home: Path, driver: HyperVDriver | None = None
) -> Iterator[Cloud]:
    """A cloud as ``harness.service.cloud.open_cloud`` assembles one, on the session's
    database reset to its pristine state, with a new host driver (or ``driver``)."""
    factory, admin = dbs.fresh()
    if backend.emulator is not None and driver is None:
        backend.emulator.reset()
    host = driver if driver is not None else load_driver(backend.name, **backend.config)
    try:
        yield cloud_on(factory, admin, host, home, runner_driver=ObservedHost(host))
    finally:
        host.close()


@pytest.fixture
def hvsnap_driver() -> HyperVDriver | None:
    """A driver a conftest builds itself (e.g. a host in SimPy time); None: the backend's."""
    return None


@pytest.fixture
def hvsnap_guests(hvsnap_backend: Backend, hvsnap_driver: HyperVDriver | None) -> GuestAccess | None:
    """How this test reaches its guests over SSH, or None (a driver a conftest built)."""
    return hvsnap_backend.guests if hvsnap_driver is None else None


@pytest.fixture
def hvsnap_cloud(
    request: pytest.FixtureRequest,
    hvsnap_backend: Backend,
    hvsnap_databases: PristineDatabase,
    hvsnap_driver: HyperVDriver | None,
    hvsnap_guests: GuestAccess | None,
) -> Iterator[Cloud]:
    """A fresh cloud for one test: the session's database reset, a new host driver behind an
    :class:`ObservedHost` (``cloud.manager.runner.driver``). Skips a ``@guest-data``
    scenario when the guests are out of reach; on live, destroys the VMs it deployed."""
    with scenario_cloud(hvsnap_databases, hvsnap_backend, Path("."), hvsnap_driver) as opened:
        reachable = hvsnap_guests is not None or opened.driver.capabilities.guest_data
        if request.node.get_closest_marker(GUEST_DATA) and not reachable:
            pytest.skip(f"@guest-data: the {hvsnap_backend.name} driver cannot read guest data")
        try:
            yield opened
        finally:
            observed = opened.manager.runner
            scenario = "_pytest_bdd_example" in request.fixturenames  # Allure records scenarios only
            if scenario and isinstance(observed, ThreadRunner) and isinstance(observed.driver, ObservedHost):
                attach_host_log(observed.driver)
            if hvsnap_backend.name != "sim" and hvsnap_backend.emulator is None:
                destroy_everything(opened)


def destroy_everything(cloud: Cloud) -> None:
    """Live hosts outlive a scenario: destroy (and expunge) every VM it deployed."""
    for vm in cloud.manager.list_vms(cloud.admin)[1]:
        with suppress(CloudError):
            cloud.manager.job_result(cloud.manager.destroy_vm(cloud.admin, vm["id"], True))


# --------------------------------------------------------------------------- the host, observed


@dataclass
class HostCall:
    command: str
    vm: str
    wall_ms: float
    sim_start: float | None
    sim_end: float | None
    error: str | None


class ObservedHost:
    """The cloud's driver, recording every command (with simulated time when the driver
    keeps a clock), and able to run something while the next command is in flight."""

    def __init__(self, inner: HyperVDriver) -> None:
        self.inner = inner
        self.capabilities: Capabilities = inner.capabilities
        self.calls: list[HostCall] = []
        self.on_next: Callable[[], None] | None = None

    def _clock(self) -> float | None:
        now = getattr(self.inner, "now", None)
        value = now() if callable(now) else now
        return float(value) if isinstance(value, int | float) else None

    def execute(self, command: Command[A]) -> A:
        hook, self.on_next = self.on_next, None
        if hook is not None:
            hook()
        t0, s0, error = time.perf_counter(), self._clock(), None
        try:
            return self.inner.execute(command)
        except Exception as err:
            error = type(err).__name__
            raise
        finally:
            ms = (time.perf_counter() - t0) * 1000
            self.calls.append(HostCall(type(command).__name__, command.vm.name, ms, s0, self._clock(), error))

    def close(self) -> None:
        self.inner.close()

    def count(self, kind: str) -> int:
        return sum(1 for c in self.calls if c.command == kind and c.error is None)


def attach_host_log(host: ObservedHost) -> None:
    """Attach the host commands (wall ms, and simulated seconds when the driver keeps a
    clock) to the Allure report, when Allure is recording."""
    if not host.calls:
        return
    try:
        import allure
    except ImportError:
        return
    simulated = any(c.sim_start is not None for c in host.calls)
    rows = ["command,vm,wall_ms,sim_start_s,sim_end_s,error"]
    rows += [
        f"{c.command},{c.vm},{c.wall_ms:.2f},{_num(c.sim_start)},{_num(c.sim_end)},{c.error or ''}"
        for c in host.calls
    ]
    name = "host commands (simulated time)" if simulated else "host commands"
    allure.attach("\n".join(rows), name=name, attachment_type=allure.attachment_type.CSV)


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"
