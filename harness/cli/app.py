"""The ``hvsnap`` root group: global options, ``init``, ``admin-keys``, and every command group."""

from __future__ import annotations

import json

import click

from harness.cli.account import account, user_id
from harness.cli.capabilities import capabilities
from harness.cli.client import Api
from harness.cli.common import Obj, Output, RootGroup, command, console, table
from harness.cli.config import config
from harness.cli.guest import guest
from harness.cli.job import job
from harness.cli.limit import limit_group
from harness.cli.offering import offering
from harness.cli.policy import policy_group
from harness.cli.snapshot import snapshot
from harness.cli.vm import vm
from harness.cli.volume import volume
from harness.service import passwords
from harness.service.cloud import home_dir, open_store


@click.group(
    cls=RootGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="\b\nExample:\n  hvsnap vm deploy --name web1\n  hvsnap snapshot create web1 --memory --name A\n"
    "  hvsnap snapshot tree web1",
)
@click.option("--home", envvar="HVSNAP_HOME", type=click.Path(file_okay=False), help="State folder [./.hvsnap]")
@click.option("--db", envvar="HVSNAP_DB", help="SQLAlchemy URL [sqlite under --home]")
@click.option("--account", "account_name", help="Act as this account [admin]")
@click.version_option(package_name="hvsnap")
@click.pass_context
def main(ctx: click.Context, home: str | None, db: str | None, account_name: str | None) -> None:
    """hvsnap: VM snapshots for Hyper-V, the CloudStack way.

    Commands on a home that `hvsnap serve` is serving go to that server's API.
    """
    ctx.obj = {"home": home, "db": db, "account": account_name}


@command(main, "init", "hvsnap --home ./lab init", short_help="Create the home, its database and the admin")
def init(api: Api) -> Obj:
    """Create the state folder, the database and the admin account (idempotent). The first
    run gives the admin a random console password and prints it, once."""
    zones = api.list("listZones", "zone")
    home = home_dir(click.get_current_context().find_root().obj["home"])
    out: Obj = {
        "home": str(home),
        "account": api.caller.name,
        "zone": zones[0]["name"] if zones else None,
        "host": "hyperv-01",
        "servedby": api.endpoint,
    }
    if api.caller.password_hash is None:
        out["password"] = passwords.random_password()
        api.call("updateUser", id=user_id(api, api.caller.name), password=out["password"])
    return out


@command(
    main,
    "sync",
    "hvsnap sync --json",
    recover="never",  # the sync it asks for reports what it settled: none runs before it
    short_help="Settle what a crash left in flight, now",
)
def sync(api: Api) -> Output:
    """VMSnapshotSync now (root admin): settle snapshots and Instances left in flight,
    finish the jobs of dead management servers, and reconcile with the host."""
    done = api.call("syncVMSnapshot")["vmsnapshotsync"]
    rows = [{k: s.get(k) for k in ("kind", "name", "from", "to", "why")} for s in done.get("settled", [])]
    for j in done.get("jobs", []):
        status = "succeeded" if j.get("jobstatus") == 1 else "failed"
        why = (j.get("jobresult") or {}).get("errortext", "")
        name = f"{j.get('cmd')} {j.get('jobid')}"
        rows.append({"kind": "job", "name": name, "from": "pending", "to": status, "why": why})
    shown = table(rows, ("kind", "name", "from", "to", "why"), console().width) if rows else "nothing to settle"
    return Output(done, shown)


@main.command("admin-keys", epilog="\b\nExample:\n  hvsnap admin-keys --json", short_help="Print the admin's API keys")
@click.option("--json", "as_json", is_flag=True, help="Print JSON")
@click.pass_context
def admin_keys(ctx: click.Context, as_json: bool) -> None:
    """Print the admin's API key and secret key."""
    opts = ctx.find_root().obj
    if opts["account"] is not None:
        name = opts["account"]
        raise click.UsageError(f"admin-keys prints the admin's keys; for {name}'s: hvsnap account keys {name}")
    with open_store(home_dir(opts["home"]), opts["db"]) as (_, admin):  # no host: works beside `serve`
        keys = {"apikey": admin.api_key, "secretkey": admin.secret_key}
    click.echo(json.dumps(keys) if as_json else f"apikey:    {keys['apikey']}\nsecretkey: {keys['secretkey']}")


for group in (vm, volume, snapshot, job, offering, capabilities, config, account, guest, policy_group, limit_group):
    main.add_command(group)
#: Commands other parts of hvsnap own, imported only when used (a command on the cloud does
#: not pay for the simulator's campaigns or the HTTP server), with their line in --help.
main.lazy.update(
    {
        "serve": ("harness.api.serve:serve", "Serve the CloudStack API on this home"),
        "host": ("live_driver.check:host_group", "Live Hyper-V hosts: connectivity, auth and rights"),
        "emulate-host": ("simulator.psrp_endpoint.cli:emulate_host", "Serve a simulated Hyper-V host over WinRM/PSRP"),
        "simulate": ("simulator.campaigns.cli:simulate_command", "Run a simulation scenario in SimPy time"),
        "decide": ("simulator.campaigns.cli:decide_command", "Answer the spec's when-to-export question by simulation"),
        "report": ("harness.report:report", "Turn Allure results (or a saved simulation) into HTML"),
    }
)
