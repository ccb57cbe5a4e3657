"""``hvsnap emulate-host``: the simulated Hyper-V host on its own, over WinRM/PSRP, for a
live driver (``hvsnap --driver live``, ``pytest --driver live``) or ``hvsnap host check``.

The endpoint's modules (psrpcore, pyspnego) are imported only when the command runs, so
the CLI works without the test extras installed.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from simulator.guests.options import guest_config, guest_options


@click.command("emulate-host")
@click.option("--bind", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", default=5985, show_default=True, type=int, help="0 picks a free port")
@click.option("--user", "username", default="hvsnap", show_default=True)
@click.option("--password", envvar="HVSNAP_EMULATED_PASSWORD", default="hvsnap-emulated", show_default=True)
@click.option("--basic", is_flag=True, help="also offer Basic auth (and accept unencrypted HTTP)")
@click.option("--credssp", is_flag=True, help="also offer CredSSP (the client delegates its password)")
@click.option("--cert", type=click.Path(exists=True, dir_okay=False), help="serve HTTPS with this PEM certificate")
@click.option("--key", type=click.Path(exists=True, dir_okay=False), help="its private key (if not in --cert)")
@click.option("--state", type=click.Path(dir_okay=False), help="load the host model from this simulator state file")
@click.option(
    "--time-scale",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="serve the host in SimPy time, this many simulated seconds per wall second (0: instant)",
)
@click.option("--seed", type=int, default=0, show_default=True, help="the timed host's random seed (VSS freezes)")
@click.option(
    "--keytab", type=click.Path(exists=True, dir_okay=False), help="the host's Kerberos key: accept Kerberos too"
)
@guest_options
@click.option(
    "--cluster-node",
    "cluster_nodes",
    multiple=True,
    help="make the host a failover cluster node beside these nodes (FailoverClusters cmdlets)",
)
@click.option(
    "--hide-cmdlet",
    "hidden_cmdlets",
    multiple=True,
    help="do not serve this cmdlet, as a restricted (JEA) endpoint whose role does not expose it",
)
def emulate_host(
    bind: str,
    port: int,
    username: str,
    password: str,
    basic: bool,
    credssp: bool,
    cert: str | None,
    key: str | None,
    state: str | None,
    time_scale: float,
    seed: int,
    keytab: str | None,
    guests: bool,
    guest_port: int,
    guest_range: str,
    guest_keys: tuple[str, ...],
    cluster_nodes: tuple[str, ...],
    hidden_cmdlets: tuple[str, ...],
) -> None:
    """Serve a simulated Hyper-V host over WinRM (PowerShell Remoting) until interrupted."""
    from simulator.host import HyperVHost

    try:
        from simulator.psrp_endpoint.endpoint import EmulatedHost
    except ImportError as err:  # psrpcore and pyspnego come with the live extra
        raise click.ClickException(f"emulate-host needs: pip install -e '.[live]' (no module {err.name})") from None

    host = HyperVHost.from_dict(json.loads(Path(state).read_text())) if state else HyperVHost()
    em = EmulatedHost(
        host,
        bind=bind,
        port=port,
        username=username,
        password=password,
        basic=basic,
        credssp=credssp,
        certfile=cert,
        keyfile=key,
        time_scale=time_scale,
        seed=seed,
        keytab=keytab,
        guests=guest_config(guests, guest_port, guest_keys),
        guest_range=guest_range,
        cluster_nodes=("HV-EMULATED", *cluster_nodes) if cluster_nodes else (),
        hidden_cmdlets=hidden_cmdlets,
    )
    scheme = "https" if cert else "http"
    timing = f", {time_scale:g} simulated s per wall s" if time_scale else ""
    click.echo(
        f"emulated Hyper-V host on {scheme}://{em.address}:{em.port}/wsman (user {username!r}{timing}); Ctrl-C stops it"
    )
    if em.guests is not None:
        click.echo(f"guests answer SSH on their addresses in {guest_range}, port {guest_port} (fallback 2222)")
    try:
        em.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped")
