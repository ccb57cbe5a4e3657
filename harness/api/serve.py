"""``hvsnap serve``: the CloudStack-compatible API on ``/client/api``."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import click

from harness.api.server import serving
from harness.service.cloud import home_dir

#: WinRM authentications of the live driver (``live_driver.session.AUTHS``; not imported here,
#: so that ``serve`` starts without the optional ``live`` extra).
AUTHS = ("negotiate", "kerberos", "ntlm", "credssp", "basic")
#: Time scales the simulated host can run at. 0: every command completes at once.
INSTANT = 0.0


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free one)")
@click.option("--driver", type=click.Choice(["sim", "live"]), default="sim", show_default=True, help="Host driver")
@click.option(
    "--time-scale",
    type=click.FloatRange(min=0),
    default=INSTANT,
    show_default=True,
    help="Simulated seconds per wall second on the simulated host (0: run each job to completion at once)",
)
@click.option("--workers", default=8, show_default=True, type=click.IntRange(1, 256), help="Job threads")
@click.option("--hyperv-host", help="live: the Hyper-V host, HOST or HOST:PORT (credentials: $HVSNAP_HYPERV_USERNAME, "
              "$HVSNAP_HYPERV_PASSWORD)")
@click.option("--auth", type=click.Choice(AUTHS), default="negotiate", show_default=True, help="live: WinRM auth")
@click.option("--no-tls", is_flag=True, help="live: plain HTTP WinRM (message encryption still applies)")
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    driver: str,
    time_scale: float,
    workers: int,
    hyperv_host: str | None,
    auth: str,
    no_tls: bool,
) -> None:
    """Serve the CloudStack API (cs, cloudmonkey) until interrupted.

    The first start creates the ROOT domain and the admin; `hvsnap admin-keys --json`
    prints the admin's keys.
    """
    if time_scale != INSTANT and driver != "sim":
        raise click.BadParameter("a time scale applies to the simulated host only", param_hint="--time-scale")
    config: dict[str, Any] = {}
    if driver == "live":
        if not hyperv_host:
            raise click.BadParameter("the live driver needs the host to manage", param_hint="--hyperv-host")
        config = {"host": hyperv_host, "auth": auth, "ssl": not no_tls}
    backend = driver
    if time_scale != INSTANT:  # the simulated host in SimPy time, its clock tied to the wall
        backend, config["time_scale"] = "sim-timed", time_scale
    opts: dict[str, Any] = ctx.find_root().obj or {}
    root = home_dir(opts.get("home"))
    root.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        filename=root / "hvsnap.log", level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.ExitStack() as stack:
        stack.enter_context(_one_server(root))
        try:
            served = serving(root, opts.get("db"), backend, host, port, workers, driver_options=config)
            running = stack.enter_context(served)
        except OSError as err:
            if err.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
                raise
            _refuse(f"cannot listen on {host}:{port} ({err.strerror}); stop what holds it, or pass --port 0")
        scale = f", time scale {time_scale:g}" if time_scale != INSTANT else ""
        click.echo(f"hvsnap API on {running.endpoint} (driver {driver}{scale}); keys: hvsnap admin-keys --json")
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    click.echo("hvsnap API stopped")


def _refuse(message: str) -> NoReturn:
    """A usage error as one line on stderr, exit 2 (no traceback)."""
    click.echo(f"hvsnap serve: {message}", err=True)
    raise SystemExit(2)


@contextlib.contextmanager
def _one_server(root: Path) -> Iterator[None]:
    """Hold ``<home>/serve.lock`` while serving: a second ``serve`` on the same home is
    refused at once (one manager per home; the lock goes with the process, even on kill -9)."""
    fd = os.open(root / "serve.lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _refuse(f"another hvsnap serve is running on {root}; stop it, or use another --home")
        yield
    finally:
        os.close(fd)
