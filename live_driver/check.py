"""``hvsnap host check HOST``: can the live driver manage this host? Five checks, in order:
the WinRM port answers, we authenticate (a runspace pool opens), the Hyper-V module is
there, our account may list VMs, and the endpoint serves every cmdlet the driver sends
(``Get-Command``, which even a restricted JEA endpoint exposes, asked for each; the
FailoverClusters ones too where that module is there). pypsrp is imported only when the
command runs."""

from __future__ import annotations

import json
import socket
from dataclasses import asdict, dataclass
from typing import Any

import click


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def run_checks(host: str, **config: Any) -> list[Check]:
    from harness.drivers import HostError
    from live_driver.commands import CLUSTER_CMDLETS, CMDLETS
    from live_driver.driver import classify
    from live_driver.session import PASSWORD_ENV, Session, TransportFailure, credentials
    from live_driver.wire import Cmdlet, Invocation, cmd

    session = Session(host, **config)
    host = session.host  # without a ":port" it carried
    checks: list[Check] = []
    try:
        with socket.create_connection((host, session.port), timeout=5):
            pass
        checks.append(Check("connectivity", True, f"{host}:{session.port} accepts connections"))
    except OSError as exc:
        return [Check("connectivity", False, f"{host}:{session.port}: {exc.strerror or exc}")]
    try:
        session.pool()
        checks.append(Check("authentication", True, f"{session.auth} as {session.username or '(default)'}"))

        def call(*cmdlets: Any) -> list[Any]:
            result = session.run(Invocation(tuple((c,) for c in cmdlets), readonly=True))
            if result.failed or result.errors:
                raise classify(result.errors[0]) if result.errors else HostError("the pipeline failed")
            return result.output

        modules = call(cmd("Get-Module", Name="Hyper-V", ListAvailable=True))
        checks.append(Check("hyper-v module", bool(modules), "found" if modules else "not installed on the host"))
        if modules:
            vms = call(cmd("Get-VM"))
            checks.append(Check("permissions", True, f"Get-VM lists {len(vms)} VM(s)"))
            clustered = call(cmd("Get-Module", Name="FailoverClusters", ListAvailable=True))
            wanted = (*CMDLETS, *CLUSTER_CMDLETS) if clustered else CMDLETS
            ask = Cmdlet("Get-Command", (("Name", wanted), ("ErrorAction", "SilentlyContinue")))
            served = {str(info.get("Name")) for info in call(ask)}
            missing = [name for name in wanted if name not in served]
            detail = f"all {len(wanted)} the driver sends are served"
            if missing:
                detail = f"not served (a JEA role must expose them): {', '.join(missing)}"
            checks.append(Check("cmdlets", not missing, detail))
    except TransportFailure as exc:
        detail = str(exc)
        if session.username and not credentials(None, config.get("password"), config.get("credentials_file"))[1]:
            detail = (  # what the library says then is SPNEGO's reason, not what to do
                f"no password for {session.username}: set {PASSWORD_ENV} or use --credentials-file "
                "(for Kerberos, kinit first)"
            )
        checks.append(Check("authentication", False, detail))
    except HostError as exc:
        checks.append(Check("permissions", False, f"{exc.code}: {exc.message}"))
    finally:
        session.close()
    return checks


@click.group("host")
def host_group() -> None:
    """Live Hyper-V hosts."""


@host_group.command("check")
@click.argument("host")
@click.option("--port", type=int, help="WinRM port (or HOST:PORT; default 5986 with TLS, 5985 without)")
@click.option("--auth", type=click.Choice(["negotiate", "kerberos", "ntlm", "credssp", "basic"]), default="negotiate")
@click.option(
    "--no-tls", is_flag=True, help="plain HTTP, the default on port 5985 (NTLM/Kerberos still encrypt messages)"
)
@click.option(
    "--ca-bundle", type=click.Path(exists=True, dir_okay=False), help="trust this CA for the host's certificate"
)
@click.option("--user", "username", help="DOMAIN\\user (default: $HVSNAP_HYPERV_USERNAME)")
@click.option(
    "--credentials-file", type=click.Path(exists=True, dir_okay=False), help="user on line 1, password on line 2"
)
@click.option(
    "--configuration-name", default="Microsoft.PowerShell", show_default=True, help="session configuration (JEA)"
)
@click.option("--spn-host", help="the host's name for Kerberos when HOST is an address or an alias")
@click.option("--json", "as_json", is_flag=True)
def check(
    host: str,
    port: int | None,
    auth: str,
    no_tls: bool,
    ca_bundle: str | None,
    username: str | None,
    credentials_file: str | None,
    configuration_name: str,
    spn_host: str | None,
    as_json: bool,
) -> None:
    """Check that HOST can be managed: connectivity, authentication, Hyper-V, permissions.
    The password comes from $HVSNAP_HYPERV_PASSWORD or --credentials-file."""
    checks = run_checks(
        host,
        port=port,
        auth=auth,
        ssl=False if no_tls else None,
        cert_validation=ca_bundle or True,
        username=username,
        credentials_file=credentials_file,
        configuration_name=configuration_name,
        retries=0,
        spn_host=spn_host,
    )
    if as_json:
        click.echo(json.dumps([asdict(c) for c in checks], indent=2))
    else:
        for c in checks:
            click.echo(f"{'ok  ' if c.ok else 'FAIL'} {c.name:<15} {c.detail}")
    if not all(c.ok for c in checks) or len(checks) < 5:
        raise SystemExit(1)
