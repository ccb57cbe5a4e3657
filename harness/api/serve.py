"""``hvsnap serve``: the CloudStack-compatible API on ``/client/api``."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from typing import Any

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
) -> None:
    """Serve the CloudStack API (cs, cloudmonkey) until interrupted.

    The first start creates the ROOT domain and the admin; `hvsnap admin-keys --json`
    prints the admin's keys. On the simulated host every running VM answers SSH on its
    address (root, password "password"; --no-guests turns this off).
    """
    if time_scale != INSTANT and driver != "sim":
        raise click.BadParameter("a time scale applies to the simulated host only", param_hint="--time-scale")
    config: dict[str, Any] = {}
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
    with serving(root, opts.get("db"), backend, host, port, workers, **config) as running:
        scale = f", time scale {time_scale:g}" if time_scale != INSTANT else ""
        click.echo(f"hvsnap API on {running.endpoint} (driver {driver}{scale}); keys: hvsnap admin-keys --json")
        if driver == "sim" and guests:
            click.echo(f"guests answer SSH on their addresses in {guest_range}, port {guest_port} (fallback 2222)")
        console = running.endpoint.removesuffix("/client/api") + "/console/"
        click.echo(f"console on {console} (log in as admin with the password hvsnap init printed)")
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    click.echo("hvsnap API stopped")
