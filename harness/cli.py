"""``hvsnap``: the command line.

Every command takes ``--json`` and then prints CloudStack response objects (the API's field
names). A refused request prints ``{"errorcode": N, "errortext": "..."}`` and exits 3; a
usage error exits 2. Commands act as the admin unless ``--account NAME`` says otherwise.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from harness.api.serve import serve
from harness.domain.errors import CloudError
from harness.domain.model import AccountType, AsyncJob
from harness.drivers import HostError
from harness.policy_cli import limit_group, policy_group
from harness.report import report
from harness.service import accounts
from harness.service.cloud import Cloud, home_dir, open_cloud, open_store
from live_driver.check import host_group
from simulator.campaigns.cli import simulate_command
from simulator.psrp_endpoint.cli import emulate_host

EXIT_REFUSED = 3
console = Console(highlight=False, soft_wrap=True)
Obj = dict[str, Any]


class Refused(click.ClickException):
    exit_code = EXIT_REFUSED

    def __init__(self, error: Obj) -> None:
        super().__init__(str(error.get("errortext")))
        self.error = error

    def show(self, file: Any = None) -> None:
        click.echo(json.dumps({"errorcode": self.error["errorcode"], "errortext": self.error["errortext"]}))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", envvar="HVSNAP_HOME", type=click.Path(file_okay=False), help="State folder [./.hvsnap]")
@click.option("--db", envvar="HVSNAP_DB", help="SQLAlchemy URL [sqlite under --home]")
@click.option("--account", "account_name", help="Act as this account [admin]")
@click.version_option(package_name="hvsnap")
@click.pass_context
def main(ctx: click.Context, home: str | None, db: str | None, account_name: str | None) -> None:
    """hvsnap: VM snapshots for Hyper-V, the CloudStack way."""
    ctx.obj = {"home": home, "db": db, "account": account_name}


@contextmanager
def _cloud(ctx: click.Context, recover: str = "if-needed") -> Iterator[tuple[Cloud, Any]]:
    opts = ctx.find_root().obj
    root = home_dir(opts["home"])
    root.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        filename=root / "hvsnap.log", level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    try:
        with open_cloud(root, opts["db"], recover=recover) as cloud:
            yield cloud, cloud.account(opts["account"])
    except CloudError as err:
        raise Refused(err.as_dict()) from None
    except HostError as err:
        raise Refused({"errorcode": 530, "errortext": err.message}) from None
    except (click.ClickException, click.exceptions.Exit):
        raise
    except Exception:
        logging.getLogger("hvsnap.cli").exception("command failed")
        raise Refused({"errorcode": 530, "errortext": "Unexpected exception (see hvsnap.log)"}) from None


def command(group: click.Group, name: str, **kw: Any) -> Callable[[Callable[..., Any]], click.Command]:
    """A subcommand that opens the cloud, takes ``--json``, and prints what it returns."""

    def wrap(fn: Callable[..., Any]) -> click.Command:
        @group.command(name, **kw)
        @click.option("--json", "as_json", is_flag=True, help="Print JSON (CloudStack field names)")
        @click.pass_context
        @wraps(fn)
        def run(ctx: click.Context, as_json: bool, **args: Any) -> None:
            with _cloud(ctx) as (cloud, caller):
                out = fn(cloud, caller, **args)
                _print(cloud, out, as_json)

        return run

    return wrap


def _finish(cloud: Cloud, job: AsyncJob) -> Obj:
    result = cloud.manager.job_result(job)
    if result["jobstatus"] != 1:
        raise CloudError.coded(result["jobresult"]["errorcode"], result["jobresult"]["errortext"])
    return result["jobresult"]


def _print(cloud: Cloud, out: Any, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(out, indent=2, default=str))
    elif isinstance(out, Tree):
        console.print(out)
    elif isinstance(out, list):
        _table(out)
    elif isinstance(out, dict) and len(out) == 1 and isinstance(next(iter(out.values())), dict):
        _table([next(iter(out.values()))])
    elif isinstance(out, dict):
        _table([out])
    else:
        console.print(out)


#: human-readable columns, by a key only that kind of object has
PROFILES = (
    ("parentName", ("id", "displayname", "type", "state", "current", "parentName", "created")),
    ("instancename", ("id", "name", "instancename", "state", "serviceofferingname")),
    ("vmsnapshotchainsize", ("id", "name", "type", "size", "path", "vmsnapshotchainsize", "vmname")),
    ("volumename", ("id", "name", "state", "volumename", "physicalsize", "created")),
    ("maxsnaps", ("id", "virtualmachinename", "intervaltype", "schedule", "timezone", "maxsnaps", "nextrun")),
    ("resourcetypename", ("account", "domain", "resourcetypename", "max", "used")),
)


def _table(rows: list[Obj]) -> None:
    if not rows:
        console.print("(none)")
        return
    cols = next((list(c) for key, c in PROFILES if key in rows[0]), list(rows[0]))
    table = Table(*cols)
    for r in rows:
        table.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in cols))
    console.print(table)


# ---------------------------------------------------------------------------------- init


@command(main, "init")
def init(cloud: Cloud, caller: Any) -> Obj:
    """Create the state folder, the database and the admin account (idempotent)."""
    return {"home": str(cloud.home), "account": cloud.admin.name, "zone": "zone1", "host": "hyperv-01"}


@main.command("admin-keys")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def admin_keys(ctx: click.Context, as_json: bool) -> None:
    """Print the admin's API key and secret key."""
    opts = ctx.find_root().obj
    with open_store(home_dir(opts["home"]), opts["db"]) as (_, admin):  # no host: works beside `serve`
        keys = {"apikey": admin.api_key, "secretkey": admin.secret_key}
    click.echo(json.dumps(keys) if as_json else f"apikey:    {keys['apikey']}\nsecretkey: {keys['secretkey']}")


@main.command("sync")
@click.option("--json", "as_json", is_flag=True, help="Print JSON")
@click.pass_context
def sync_command(ctx: click.Context, as_json: bool) -> None:
    """VMSnapshotSync now: settle what a crash left in flight, finish dead managers' jobs."""
    with _cloud(ctx, recover="never") as (cloud, caller):
        done = cloud.manager.sync_vm_snapshots(caller)
    if as_json:
        click.echo(json.dumps(done, indent=2))
        return
    rows = [
        {"kind": s["kind"], "name": s["name"], "from": s["from"], "to": s["to"], "why": s["why"]}
        for s in done["settled"]
    ]
    rows += [
        {
            "kind": "job",
            "name": f"{j['cmd']} {j['jobid']}",
            "from": "pending",
            "to": "succeeded" if j["jobstatus"] == 1 else "failed",
            "why": j["jobresult"].get("errortext", ""),
        }
        for j in done["jobs"]
    ]
    _table(rows) if rows else console.print("nothing to settle")


# ---------------------------------------------------------------------------------- vm


@main.group()
def vm() -> None:
    """Instances: deploy, start, stop, destroy, list, volumes, offering."""


@command(vm, "deploy")
@click.option("--name", required=True)
@click.option("--offering", default="small", show_default=True, help="Offering name or id")
@click.option("--stopped", is_flag=True, help="Do not start it")
def vm_deploy(cloud: Cloud, caller: Any, name: str, offering: str, stopped: bool) -> Obj:
    _, job = cloud.manager.deploy_vm(caller, name, offering, start=not stopped)
    return _finish(cloud, job)["virtualmachine"]


def _vm_action(name: str, method: str, doc: str, **extra: Any) -> None:
    @command(vm, name, help=doc)
    @click.argument("vmid")
    def run(cloud: Cloud, caller: Any, vmid: str, **kw: Any) -> Obj:
        return _finish(cloud, getattr(cloud.manager, method)(caller, vmid, **kw))["virtualmachine"]


_vm_action("start", "start_vm", "Start a stopped VM (importing it with its snapshots).")
_vm_action("stop", "stop_vm", "Stop a VM: export it if needed, then unregister it from Hyper-V.")


@command(vm, "destroy")
@click.argument("vmid")
@click.option("--expunge", is_flag=True)
def vm_destroy(cloud: Cloud, caller: Any, vmid: str, expunge: bool) -> Obj:
    """Destroy a VM and all its VM snapshots."""
    return _finish(cloud, cloud.manager.destroy_vm(caller, vmid, expunge))["virtualmachine"]


@command(vm, "change-offering")
@click.argument("vmid")
@click.argument("offering")
def vm_change_offering(cloud: Cloud, caller: Any, vmid: str, offering: str) -> Obj:
    """Change a stopped VM's offering; its memory snapshots are discarded."""
    return _finish(cloud, cloud.manager.change_offering(caller, vmid, offering))["virtualmachine"]


@command(vm, "list")
@click.option("--state")
@click.option("--keyword")
def vm_list(cloud: Cloud, caller: Any, state: str | None, keyword: str | None) -> list[Obj]:
    from harness.domain.states import VMState

    if state is not None and state not in VMState.__members__:
        raise CloudError(f"Invalid state {state}") from None
    return cloud.manager.list_vms(caller, state=VMState(state) if state else None, keyword=keyword)[1]


@command(vm, "attach-volume")
@click.argument("vmid")
@click.argument("volumeid")
def vm_attach(cloud: Cloud, caller: Any, vmid: str, volumeid: str) -> Obj:
    return _finish(cloud, cloud.manager.attach_volume(caller, volumeid, vmid, True))["volume"]


@command(vm, "detach-volume")
@click.argument("vmid")
@click.argument("volumeid")
def vm_detach(cloud: Cloud, caller: Any, vmid: str, volumeid: str) -> Obj:
    return _finish(cloud, cloud.manager.attach_volume(caller, volumeid, vmid, False))["volume"]


# ---------------------------------------------------------------------------------- volume


@main.group()
def volume() -> None:
    """Volumes and volume snapshots."""


@command(volume, "create")
@click.option("--name", required=True)
@click.option("--size", "size_gb", type=int, default=10, show_default=True, help="GB")
def volume_create(cloud: Cloud, caller: Any, name: str, size_gb: int) -> Obj:
    return cloud.manager.create_volume(caller, name, size_gb)


@command(volume, "list")
@click.option("--vm", "vm_uuid")
def volume_list(cloud: Cloud, caller: Any, vm_uuid: str | None) -> list[Obj]:
    return cloud.manager.list_volumes(caller, vm_uuid)[1]


@command(volume, "snapshot")
@click.argument("volumeid")
@click.option("--name")
def volume_snapshot(cloud: Cloud, caller: Any, volumeid: str, name: str | None) -> Obj:
    """Take a volume snapshot (refused while a VM snapshot operation runs on its VM)."""
    return _finish(cloud, cloud.manager.create_volume_snapshot(caller, volumeid, name))["snapshot"]


@command(volume, "snapshots")
@click.option("--volume", "volume_uuid")
def volume_snapshots(cloud: Cloud, caller: Any, volume_uuid: str | None) -> list[Obj]:
    return cloud.manager.list_volume_snapshots(caller, volume_uuid)[1]


# ---------------------------------------------------------------------------------- snapshot


@main.group()
def snapshot() -> None:
    """VM snapshots: create, list, revert, delete, tree."""


@command(snapshot, "create")
@click.argument("vmid")
@click.option("--memory", is_flag=True, help="Disk and memory (VM must be running)")
@click.option("--quiesce", is_flag=True, help="Application-consistent disk snapshot")
@click.option("--name")
@click.option("--description")
def snapshot_create(
    cloud: Cloud, caller: Any, vmid: str, memory: bool, quiesce: bool, name: str | None, description: str | None
) -> Obj:
    _, job = cloud.manager.create_vm_snapshot(caller, vmid, name, description, memory, quiesce)
    return _finish(cloud, job)["vmsnapshot"]


@command(snapshot, "list")
@click.option("--id", "snapshot_uuid")
@click.option("--vm", "vm_uuid")
@click.option("--state")
@click.option("--name")
@click.option("--keyword")
@click.option("--account-id", "account_uuid")
@click.option("--domain-id", "domain_uuid")
@click.option("--page", type=int)
@click.option("--pagesize", type=int)
def snapshot_list(cloud: Cloud, caller: Any, **filters: Any) -> list[Obj]:
    return cloud.manager.list_vm_snapshots(caller, **filters)[1]


@command(snapshot, "revert")
@click.argument("snapshotid")
def snapshot_revert(cloud: Cloud, caller: Any, snapshotid: str) -> Obj:
    return _finish(cloud, cloud.manager.revert_to_vm_snapshot(caller, snapshotid))["virtualmachine"]


@command(snapshot, "delete")
@click.argument("snapshotid")
def snapshot_delete(cloud: Cloud, caller: Any, snapshotid: str) -> Obj:
    return _finish(cloud, cloud.manager.delete_vm_snapshot(caller, snapshotid))


@command(snapshot, "delete-all")
@click.argument("vmid")
def snapshot_delete_all(cloud: Cloud, caller: Any, vmid: str) -> Obj:
    return _finish(cloud, cloud.manager.delete_vm_snapshots(caller, vmid))


@command(snapshot, "tree")
@click.argument("vmid")
def snapshot_tree(cloud: Cloud, caller: Any, vmid: str) -> Any:
    """Draw the VM's snapshot tree; the current snapshot is marked."""
    _, snaps = cloud.manager.list_vm_snapshots(caller, vm_uuid=vmid)
    if not snaps:
        cloud.manager.list_vms(caller)  # access errors surface through the list above
    return _tree(vmid, sorted(snaps, key=lambda s: s["created"] or ""))


def _tree(vmid: str, snaps: list[Obj]) -> Tree:
    root = Tree(f"[bold]{vmid}[/]")
    nodes: dict[str | None, Tree] = {None: root}
    pending = list(snaps)
    ids = {s["id"] for s in snaps}
    while pending:
        progressed = False
        for s in list(pending):
            parent = s["parent"] if s["parent"] in ids else None
            if parent in nodes:
                mark = "  [green]<- current[/]" if s["current"] else ""
                nodes[s["id"]] = nodes[parent].add(f"{s['displayname']} [dim]{s['type']} {s['state']}[/]{mark}")
                pending.remove(s)
                progressed = True
        if not progressed:
            break
    return root


# ---------------------------------------------------------------------------------- catalogue


@main.group()
def offering() -> None:
    """Service offerings."""


@command(offering, "list")
def offering_list(cloud: Cloud, caller: Any) -> list[Obj]:
    return cloud.manager.list_offerings()


@main.group()
def capabilities() -> None:
    """Hypervisor capabilities (vm_snapshot_enabled)."""


@command(capabilities, "list")
def capabilities_list(cloud: Cloud, caller: Any) -> list[Obj]:
    return cloud.manager.list_capabilities()


@command(capabilities, "set")
@click.option("--vm-snapshot-enabled", "enabled", type=click.BOOL, required=True)
@click.option("--id", "caps_uuid")
def capabilities_set(cloud: Cloud, caller: Any, enabled: bool, caps_uuid: str | None) -> Obj:
    return cloud.manager.set_vm_snapshot_enabled(caller, enabled, caps_uuid)


@main.group()
def config() -> None:
    """Configuration keys."""


@command(config, "get")
@click.argument("name", required=False)
def config_get(cloud: Cloud, caller: Any, name: str | None) -> list[Obj]:
    return cloud.manager.list_config(name)


@command(config, "set")
@click.argument("name")
@click.argument("value")
def config_set(cloud: Cloud, caller: Any, name: str, value: str) -> Obj:
    return cloud.manager.set_config(caller, name, value)


@main.group()
def account() -> None:
    """Accounts."""


@command(account, "create")
@click.argument("name")
@click.option("--type", "kind", type=click.Choice(["user", "domain-admin", "admin"]), default="user")
@click.option("--domain-id", "domain_uuid")
def account_create(cloud: Cloud, caller: Any, name: str, kind: str, domain_uuid: str | None) -> Obj:
    types = {"user": AccountType.User, "domain-admin": AccountType.DomainAdmin, "admin": AccountType.Admin}
    from harness.service import views

    created = accounts.create_account(cloud.manager.uow_factory, caller, name, types[kind], domain_uuid)
    with cloud.manager.uow_factory(readonly=True) as uow:
        return views.account(uow, created)


@main.group()
def guest() -> None:
    """Guest data on a simulated VM's disk, to check what a revert brings back."""


@command(guest, "write")
@click.argument("vmid")
@click.argument("key")
@click.argument("value")
def guest_write(cloud: Cloud, caller: Any, vmid: str, key: str, value: str) -> Obj:
    return cloud.manager.write_guest_data(caller, vmid, key, value)


@command(guest, "read")
@click.argument("vmid")
@click.argument("key")
def guest_read(cloud: Cloud, caller: Any, vmid: str, key: str) -> Obj:
    return cloud.manager.read_guest_data(caller, vmid, key)


main.add_command(serve)
main.add_command(host_group)
main.add_command(emulate_host)
main.add_command(simulate_command)
main.add_command(policy_group)
main.add_command(limit_group)
main.add_command(report)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
