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
from simulator.guests.options import guest_config, guest_options

#: Time scales the simulated host can run at. 0: every command completes at once.
INSTANT = 0.0


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on")
@click.option(
    "--port",
    default=8080,
    show_default=True,
    envvar="HVSNAP_PORT",
    type=click.IntRange(0, 65535),
    help="Port (0: any free one) [$HVSNAP_PORT]",
)
@click.option("--driver", type=click.Choice(["sim", "live"]), default="sim", show_default=True, help="Host driver")
@click.option(
    "--time-scale",
    type=click.FloatRange(min=0),
    default=INSTANT,
    show_default=True,
    help="Simulated seconds per wall second on the simulated host (0: run each job to completion at once)",
)
@click.option("--workers", default=8, show_default=True, type=click.IntRange(1, 256), help="Job threads")
@guest_options
@click.option("--hyperv-host", help="--driver live: the Hyper-V host, HOST or HOST:PORT")
@click.option("--hyperv-port", type=click.IntRange(1, 65535), help="its WinRM port [5986 with TLS, 5985 without]")
@click.option("--hyperv-no-tls", is_flag=True, help="plain HTTP (the default on port 5985, HTTPS elsewhere)")
@click.option(
    "--hyperv-auth",
    type=click.Choice(["negotiate", "kerberos", "ntlm", "credssp", "basic"]),
    default="negotiate",
    show_default=True,
)
@click.option("--hyperv-user", help="DOMAIN\\user [$HVSNAP_HYPERV_USERNAME]; the password: $HVSNAP_HYPERV_PASSWORD")
@click.option(
    "--hyperv-credentials-file", type=click.Path(exists=True, dir_okay=False), help="user on line 1, password on line 2"
)
@click.option("--hyperv-ca-bundle", type=click.Path(exists=True, dir_okay=False), help="trust this CA for TLS")
@click.option("--hyperv-cluster", is_flag=True, help="the host is a failover cluster node: revert through the cluster")
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    driver: str,
    time_scale: float,
    workers: int,
    guests: bool,
    guest_port: int,
    guest_range: str,
    guest_keys: tuple[str, ...],
    hyperv_host: str | None,
    hyperv_port: int | None,
    hyperv_no_tls: bool,
    hyperv_auth: str,
    hyperv_user: str | None,
    hyperv_credentials_file: str | None,
    hyperv_ca_bundle: str | None,
    hyperv_cluster: bool,
) -> None:
    """Serve the CloudStack API (cs, cloudmonkey) until interrupted.

    The first start creates the ROOT domain and the admin; `hvsnap admin-keys --json`
    prints the admin's keys. On the simulated host every running VM answers SSH on its
    address (root, password "password"; --no-guests turns this off).
    prints the admin's keys. `--driver live --hyperv-host HOST[:PORT]` manages a Hyper-V
    host over PowerShell Remoting (`pip install -e '.[live]'`).
    """
    if time_scale != INSTANT and driver != "sim":
        raise click.BadParameter("a time scale applies to the simulated host only", param_hint="--time-scale")
    config: dict[str, Any] = {}
    if driver == "live":
        if not hyperv_host:
            raise click.UsageError("--driver live needs --hyperv-host HOST[:PORT] (the Hyper-V host to manage)")
        config = {
            "host": hyperv_host,
            "port": hyperv_port,
            "ssl": False if hyperv_no_tls else None,
            "auth": hyperv_auth,
            "username": hyperv_user,
            "credentials_file": hyperv_credentials_file,
            "cert_validation": hyperv_ca_bundle or True,
            "clustered": hyperv_cluster,
        }
    elif hyperv_host:
        raise click.BadParameter("a Hyper-V host applies to --driver live only", param_hint="--hyperv-host")
    backend = driver
    if time_scale != INSTANT:  # the simulated host in SimPy time, its clock tied to the wall
        backend, config["time_scale"] = "sim-timed", time_scale
    if driver == "sim":
        config.update(guests=guest_config(guests, guest_port, guest_keys), guest_range=guest_range)
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
        except ImportError as err:  # pypsrp is the live extra's
            need = f"--driver live needs: pip install -e '.[live]' (no module {err.name})"
            raise click.ClickException(need) from None
        except OSError as err:
            if err.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
                raise
            _refuse(f"cannot listen on {host}:{port} ({err.strerror}); stop what holds it, or pass --port 0")
        where = f" {hyperv_host}" if driver == "live" else ""
        scale = f", time scale {time_scale:g}" if time_scale != INSTANT else ""
        banner = f"hvsnap API on {running.endpoint} (driver {driver}{where}{scale})"
        click.echo(f"{banner}; keys: hvsnap admin-keys --json")
        if driver == "sim" and guests:
            click.echo(f"guests answer SSH on their addresses in {guest_range}, port {guest_port} (fallback 2222)")
        console = running.endpoint.removesuffix("/client/api") + "/console/"
        click.echo(f"console on {console} (log in as admin with the password hvsnap init printed)")
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
