"""The vocabulary of the Gherkin steps: :class:`ScenarioCloud`, the ``cloud`` every step
talks to. It speaks names (the VM "web", the snapshot "A"), calls the manager and the driver
contract only (so the features run unchanged on a live host), and holds no rule: what a
scenario expects is written in its feature.

Snapshot trees are written ``A(B, C*)`` (:mod:`features.steps.trees`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from features.steps.guests import GuestSessions
from features.steps.timed import SimulatedClockDriver
from features.steps.trees import parse_tree, render_tree, tree_from, walk
from harness.domain.errors import CloudError
from harness.domain.model import Account, AccountType
from harness.drivers import (
    CheckpointInfo,
    Command,
    CreateVMSnapshot,
    DeleteVMSnapshot,
    GetInventory,
    Inventory,
    RevertToVMSnapshot,
    SnapshotRef,
    VMInventory,
    VMRef,
)
from harness.jobs.runners import ThreadRunner, Workflow
from harness.pytest_plugin import ObservedHost
from harness.service import accounts, sync, vmsnapshots
from harness.service.cloud import Cloud

Obj = dict[str, Any]
DATA_KEY = "marker"


# --------------------------------------------------------------------------- the vocabulary


class ScenarioCloud:
    """What a scenario does to the cloud, by name. Every mutating call waits for its job;
    ``attempt`` keeps a refusal (a ``CloudError``) for the Then steps instead of raising."""

    def __init__(self, cloud: Cloud, fake: Any, guests: GuestSessions | None = None) -> None:
        self.cloud = cloud
        self.guests = guests  # SSH into the guests; None: the manager's guest-data calls
        self.m = cloud.manager
        runner = cloud.manager.runner
        assert isinstance(runner, ThreadRunner) and isinstance(runner.driver, ObservedHost)
        self.host: ObservedHost = runner.driver
        self.fake = fake
        self.caller: Account = cloud.admin
        self.vms: dict[str, str] = {}
        self.instances: dict[str, str] = {}  # VM name -> instance name (i-2-7-VM), the host's name
        self.snapshots: dict[str, str] = {}
        self.volumes: dict[str, str] = {}
        self.accounts: dict[str, Account] = {}
        self.domains: dict[str, str] = {}
        self.data: dict[str, str] = {}  # snapshot name -> the guest data it holds
        self.written: dict[str, str] = {}  # VM name -> the data last written
        self.error: CloudError | None = None
        self.result: Any = None
        self.listed: list[Obj] = []
        self.first_error: CloudError | None = None
        self.taken: list[str] = []  # snapshot names (or ids), in the order taken
        self.sync_report: sync.SyncReport | None = None
        self.abandoned: list[Workflow[Any]] = []  # workflows of a "crashed" manager

    # ---------------------------------------------------------------- plumbing

    def done(self, job: Any) -> Obj:
        result = self.m.job_result(job)
        if result["jobstatus"] != 1:
            raise CloudError.coded(result["jobresult"]["errorcode"], result["jobresult"]["errortext"])
        return result["jobresult"]

    def attempt(self, action: Callable[..., Any], *args: Any, **kw: Any) -> None:
        self.error = None
        try:
            self.result = action(*args, **kw)
        except CloudError as err:
            self.error = err

    def refused(self, code: int, text: str | None = None) -> None:
        assert self.error is not None, f"the request was accepted: {self.result!r}"
        assert self.error.errorcode == code, f"{self.error.errorcode}: {self.error.errortext}"
        if text:
            assert text.lower() in self.error.errortext.lower(), self.error.errortext

    def accepted(self) -> None:
        assert self.error is None, f"refused with {self.error.errorcode}: {self.error.errortext}"

    def vm_id(self, name: str) -> str:
        return self.vms.get(name, name)

    def snap_id(self, name: str) -> str:
        return self.snapshots.get(name, name)

    def during_next_command(self, action: Callable[[], Any], first: Callable[[], Any]) -> None:
        """Run ``first``; when its first host command is in flight, attempt ``action``.
        The attempt's outcome is kept for the Then steps; ``first``'s in ``first_error``."""
        self.host.on_next = lambda: self.attempt(action)
        self.first_error = None
        try:
            first()
        except CloudError as err:
            self.first_error = err
        finally:
            self.host.on_next = None

    def first_completed(self) -> None:
        assert self.first_error is None, f"the first operation failed: {self.first_error}"

    def as_account(self, name: str, action: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        """Do ``action`` as the account ``name``."""
        before, self.caller = self.caller, self.accounts[name]
        try:
            return action(*args, **kw)
        finally:
            self.caller = before

    @staticmethod
    def names(text: str, keep_order: bool = False) -> list[str]:
        """``"B, A"`` -> ``["A", "B"]`` (sorted unless ``keep_order``); ``""`` -> ``[]``."""
        items = [n.strip() for n in text.split(",") if n.strip()]
        return items if keep_order else sorted(items)

    @staticmethod
    def canonical(tree: str) -> str:
        return render_tree(parse_tree(tree))

    @staticmethod
    def is_internal_name(name: str) -> bool:
        return re.fullmatch(r"i-\d+-\d+-VM_VS_\d{14}", name) is not None

    # ---------------------------------------------------------------- accounts and config

    def account(self, name: str, domain: str | None = None, admin: bool = False) -> Account:
        kind = AccountType.DomainAdmin if admin else AccountType.User
        made = accounts.create_account(self.m.uow_factory, self.cloud.admin, name, kind, self.domains.get(domain or ""))
        self.accounts[name] = made
        return made

    def domain(self, name: str) -> None:
        self.domains[name] = accounts.create_domain(self.m.uow_factory, self.cloud.admin, name).uuid

    def act_as(self, name: str) -> None:
        self.caller = self.cloud.admin if name == "admin" else self.accounts[name]

    def config(self, name: str, value: str) -> None:
        self.m.set_config(self.cloud.admin, name, value)

    def vm_snapshots_enabled(self, enabled: bool) -> None:
        self.m.set_vm_snapshot_enabled(self.cloud.admin, enabled)

    # ---------------------------------------------------------------- VMs

    def deploy(self, name: str, state: str = "running", owner: str | None = None) -> str:
        caller = self.accounts[owner] if owner else self.caller
        _, job = self.m.deploy_vm(caller, name, "small", state == "running")
        made = self.done(job)["virtualmachine"]
        self.vms[name], self.instances[name] = made["id"], made["instancename"]
        return self.vms[name]

    def vm(self, name: str) -> Obj:
        found = [v for v in self.m.list_vms(self.cloud.admin)[1] if v["id"] == self.vm_id(name)]
        assert found, f"no VM {name}"
        return found[0]

    def state(self, name: str) -> str:
        """The VM's state, or "gone" once it is no longer listed (expunged)."""
        listed = [v for v in self.m.list_vms(self.cloud.admin)[1] if v["id"] == self.vm_id(name)]
        return str(listed[0]["state"]) if listed else "gone"

    def start(self, name: str) -> Obj:
        return self.done(self.m.start_vm(self.caller, self.vm_id(name)))

    def stop(self, name: str) -> Obj:
        return self.done(self.m.stop_vm(self.caller, self.vm_id(name)))

    def put(self, name: str, state: str) -> None:
        """Bring the VM to ``running`` or ``stopped`` (nothing if it is there)."""
        now = self.state(name)
        if state == "running" and now == "Stopped":
            self.start(name)
        elif state == "stopped" and now == "Running":
            self.stop(name)

    def destroy(self, name: str, expunge: bool = False) -> Obj:
        return self.done(self.m.destroy_vm(self.caller, self.vm_id(name), expunge))

    def change_offering(self, name: str, offering: str) -> Obj:
        return self.done(self.m.change_offering(self.caller, self.vm_id(name), offering))

    def offering(self, name: str) -> str:
        return str(self.vm(name)["serviceofferingname"])

    # ---------------------------------------------------------------- guest data

    def write(self, vm: str) -> str:
        """Write fresh data into the guest (which must run: the VM is started if needed):
        over SSH into ``~/marker`` where the guests are reachable, else through the manager."""
        self.put(vm, "running")
        value = self.fake.pystr(min_chars=12, max_chars=12)
        if self.guests is not None:
            self.guests.write(self.guest_address(vm), DATA_KEY, value)
        else:
            self.m.write_guest_data(self.caller, self.vm_id(vm), DATA_KEY, value)
        self.written[vm] = value
        return value

    def write_through_manager(self, vm: str) -> None:
        """Write guest data through the manager (never over SSH), whatever the host declares."""
        self.m.write_guest_data(self.caller, self.vm_id(vm), DATA_KEY, self.fake.pystr(min_chars=12, max_chars=12))

    def declare_no_guest_data(self) -> None:
        """Tell the manager what a host without guest data (a live one) declares."""
        self.m.capabilities = replace(self.m.capabilities, guest_data=False)

    def sent(self, command: str) -> int:
        """How many ``command`` commands (a class name) the host was sent, answered or not."""
        return sum(1 for c in self.host.calls if c.command == command)

    def read(self, vm: str) -> str | None:
        if self.guests is not None:
            return self.guests.read(self.guest_address(vm), DATA_KEY)
        return self.m.read_guest_data(self.caller, self.vm_id(vm), DATA_KEY)["value"]

    def guest_address(self, vm: str) -> str:
        """The running VM's address, as the host reports it."""
        found = self.host_vm(vm)
        assert found is not None and found.ip_addresses, f"the host reports no address for {vm}"
        return found.ip_addresses[0]

    def holds_data_of(self, vm: str, snapshot: str) -> None:
        """The running VM's disk holds what was written just before ``snapshot``."""
        self.put(vm, "running")
        assert self.read(vm) == self.data[snapshot], f"{vm} does not hold the data of {snapshot}"

    def holds_latest_data(self, vm: str) -> None:
        self.put(vm, "running")
        assert self.read(vm) == self.written[vm]

    # ---------------------------------------------------------------- VM snapshots

    def snapshot(
        self,
        vm: str,
        name: str | None = None,
        memory: bool = False,
        quiesce: bool = False,
        description: str | None = None,
    ) -> Obj:
        if vm in self.written and name is not None:
            self.data[name] = self.written[vm]
        _, job = self.m.create_vm_snapshot(self.caller, self.vm_id(vm), name, description, memory, quiesce)
        made: Obj = self.done(job)["vmsnapshot"]
        self.snapshots[name if name is not None else made["name"]] = made["id"]
        self.taken.append(name if name is not None else made["name"])
        return made

    def last_snapshot(self) -> str:
        return self.taken[-1]

    def snapshots_in_a_row(self, vm: str, count: int, memory: str) -> None:
        """``count`` snapshots named ``<vm>-1``..; memory on, off, or mixed (every other)."""
        for i in range(count):
            self.snapshot(vm, f"{vm}-{i + 1}", memory == "on" or (memory == "mixed" and i % 2 == 0))

    def snapshots_as(self, vm: str, spec: str) -> None:
        """``"mem:M1, disk:D1"``: a memory snapshot M1, then a disk snapshot D1."""
        for item in self.names(spec, keep_order=True):
            kind, name = item.split(":")
            self.snapshot(vm, name, memory=kind == "mem")

    def take(self, vm: str, name: str, memory: str, quiesce: str) -> Obj:
        return self.snapshot(vm, name, memory == "on", quiesce == "on")

    def try_take(self, vm: str, name: str, memory: str, quiesce: str) -> None:
        self.attempt(self.take, vm, name, memory, quiesce)

    def took_as(self, owner: str, vm: str, name: str, description: str) -> Obj:
        return self.as_account(owner, self.snapshot, vm, name, description=description)

    def try_with_text(self, vm: str, field: str, text: str) -> None:
        self.attempt(self.with_text, vm, field, text)

    def with_text(self, vm: str, field: str, text: str) -> Obj:
        """A snapshot whose ``field`` (name or description) is ``text``."""
        if field == "name":
            return self.snapshot(vm, text)
        return self.snapshot(vm, description=text)

    def state_and_type(self, name: str) -> tuple[str, str]:
        snap = self.snap(name)
        return snap["state"], snap["type"]

    def internal_names(self, vm: str, count: int) -> list[str]:
        names = sorted(s["name"] for s in self.of_vm(vm).values())
        assert len(names) == count, f"{vm} has {len(names)} snapshots, not {count}"
        return names

    def listed_names(self) -> list[str]:
        return [s["displayname"] for s in self.listed]

    def keyword_finds_only(self, name: str) -> bool:
        return [s["id"] for s in self.search(keyword=name)] == [self.snap_id(name)]

    def volume_snapshot_result(self) -> tuple[str, bool]:
        made = self.result["snapshot"]
        return made["state"], made["physicalsize"] > 0

    def while_in_flight(self, second: str, first: str, vm: str) -> None:
        """Attempt operation ``second`` while operation ``first`` has a command on the host."""
        self.during_next_command(self.operation(second, vm), self.operation(first, vm))

    def revert(self, snapshot: str) -> Obj:
        return self.done(self.m.revert_to_vm_snapshot(self.caller, self.snap_id(snapshot)))

    def delete(self, snapshot: str) -> Obj:
        return self.done(self.m.delete_vm_snapshot(self.caller, self.snap_id(snapshot)))

    def delete_all(self, vm: str) -> Obj:
        return self.done(self.m.delete_vm_snapshots(self.caller, self.vm_id(vm)))

    def list_by(self, filter: str, value: str) -> list[Obj]:
        """List with one filter, naming VMs, snapshots, accounts and domains by name."""
        key, ids = {
            "vm": ("vm_uuid", self.vms),
            "id": ("snapshot_uuid", self.snapshots),
            "account": ("account_uuid", {n: a.uuid for n, a in self.accounts.items()}),
            "domain": ("domain_uuid", self.domains),
        }.get(filter, (filter, {}))
        return self.search(**{key: ids.get(value, value)})

    def search(self, **filters: Any) -> list[Obj]:
        self.listed = self.m.list_vm_snapshots(self.caller, **filters)[1]
        return self.listed

    def of_vm(self, vm: str) -> dict[str, Obj]:
        return {s["displayname"]: s for s in self.m.list_vm_snapshots(self.cloud.admin, vm_uuid=self.vm_id(vm))[1]}

    def snap(self, name: str) -> Obj:
        found = self.m.list_vm_snapshots(self.cloud.admin, snapshot_uuid=self.snap_id(name))[1]
        assert found, f"snapshot {name} is not listed"
        return found[0]

    def build(self, vm: str, tree: str, memory: str, taken_while: str = "running") -> None:
        """Take the snapshots of ``tree`` (``A(B, C)``) in pre-order, each holding its own
        data (where the driver has guest data): revert to the parent first when it is not
        current. ``memory`` is on, off, or mixed (on for every other snapshot)."""
        for i, (node, parent) in enumerate(walk(parse_tree(tree))):
            if parent is not None and not self.snap(parent)["current"]:
                self.revert(parent)
            self.put(vm, "running")
            if self.host.capabilities.guest_data or self.guests is not None:
                self.write(vm)
            self.put(vm, taken_while)
            with_memory = memory == "on" or (memory == "mixed" and i % 2 == 0)
            self.snapshot(vm, node.name, memory=with_memory)

    def tree(self, vm: str) -> str:
        snaps = list(self.of_vm(vm).values())
        names = {s["id"]: s["displayname"] for s in snaps}
        parent = {s["id"]: None if s["parent"] is None else names.get(s["parent"], f"?{s['parent']}") for s in snaps}
        return render_tree(tree_from([(s["displayname"], parent[s["id"]], bool(s["current"])) for s in snaps]))

    def host_tree(self, vm: str) -> str:
        host = self.host_vm(vm)
        assert host is not None, f"{vm} is not registered on the host"
        display = {s["name"]: s["displayname"] for s in self.of_vm(vm).values()}
        show = {c.name: display.get(c.name, c.name) for c in host.checkpoints}
        cps = host.checkpoints
        items = [(show[c.name], c.parent and show.get(c.parent, c.parent), c.name == host.current) for c in cps]
        return render_tree(tree_from(items))

    def restores_each(self, vm: str, state: str = "running") -> None:
        """Revert to every snapshot in turn, from ``state``: each ends Running (memory) or
        Stopped (disk), becomes current, and brings back its own data."""
        for name, snap in sorted(self.of_vm(vm).items()):
            self.put(vm, state)
            after = self.revert(name)["virtualmachine"]["state"]
            expected = "Running" if snap["type"] == "DiskAndMemory" else "Stopped"
            assert after == expected, f"revert to {name} ({snap['type']}) left the VM {after}"
            assert self.snap(name)["current"] is True, f"{name} is not current after the revert"
            self.holds_data_of(vm, name)

    # ---------------------------------------------------------------- volumes

    def create_volume(self, name: str) -> str:
        _, job = self.m.create_volume(self.caller, name, 5)
        self.volumes[name] = self.done(job)["volume"]["id"]
        return self.volumes[name]

    def attach(self, volume: str, vm: str) -> Obj:
        return self.done(self.m.attach_volume(self.caller, self.volumes.get(volume, volume), self.vm_id(vm)))

    def detach(self, volume: str, vm: str) -> Obj:
        vol = self.volumes.get(volume, volume)
        return self.done(self.m.attach_volume(self.caller, vol, self.vm_id(vm), attach=False))

    def root_volume(self, vm: str) -> str:
        vols = self.m.list_volumes(self.cloud.admin, self.vm_id(vm))[1]
        return next(v["id"] for v in vols if v["type"] == "ROOT")

    def volumes_of(self, vm: str) -> list[Obj]:
        return self.m.list_volumes(self.cloud.admin, self.vm_id(vm))[1]

    def volume_snapshot(self, vm: str) -> Obj:
        return self.done(self.m.create_volume_snapshot(self.caller, self.root_volume(vm)))

    # ---------------------------------------------------------------- operations by name

    def operation(self, phrase: str, vm: str) -> Callable[[], Any]:
        """An operation a Gherkin table names, on ``vm``."""
        counter = itertools.count(1)
        ops: dict[str, Callable[[], Any]] = {
            "take a snapshot": lambda: self.snapshot(vm, f"{vm}-new-{next(counter)}"),
            "take a memory snapshot": lambda: self.snapshot(vm, f"{vm}-mem-{next(counter)}", memory=True),
            "revert to A": lambda: self.revert("A"),
            "delete A": lambda: self.delete("A"),
            "delete all snapshots": lambda: self.delete_all(vm),
            "take a volume snapshot": lambda: self.volume_snapshot(vm),
            "attach a volume": lambda: self.attach(self.create_volume(self.fake.slug()), vm),
            "stop the VM": lambda: self.stop(vm),
            "start the VM": lambda: self.start(vm),
            "destroy the VM": lambda: self.destroy(vm),
            "change its offering": lambda: self.change_offering(vm, "large"),
            "list its snapshots": lambda: self.search(vm_uuid=self.vm_id(vm)),
        }
        assert phrase in ops, f"unknown operation {phrase!r}; known: {', '.join(ops)}"
        return ops[phrase]

    def operation_on_id(self, phrase: str, uuid: str) -> Callable[[], Any]:
        """An operation a Gherkin table names, on an id given verbatim."""
        m, me = self.m, self.caller
        ops: dict[str, Callable[[], Any]] = {
            "take a snapshot": lambda: self.done(m.create_vm_snapshot(me, uuid)[1]),
            "take a memory snapshot": lambda: self.done(m.create_vm_snapshot(me, uuid, memory=True)[1]),
            "revert to snapshot": lambda: self.done(m.revert_to_vm_snapshot(me, uuid)),
            "delete snapshot": lambda: self.done(m.delete_vm_snapshot(me, uuid)),
            "delete all snapshots": lambda: self.done(m.delete_vm_snapshots(me, uuid)),
            "start VM": lambda: self.done(m.start_vm(me, uuid)),
            "stop VM": lambda: self.done(m.stop_vm(me, uuid)),
            "destroy VM": lambda: self.done(m.destroy_vm(me, uuid)),
            "attach volume": lambda: self.done(m.attach_volume(me, uuid, next(iter(self.vms.values())))),
            "volume snapshot": lambda: self.done(m.create_volume_snapshot(me, uuid)),
        }
        assert phrase in ops, f"unknown operation {phrase!r}; known: {', '.join(ops)}"
        return ops[phrase]

    # ---------------------------------------------------------------- manager crashes and sync

    def crash_during(self, operation: str, vm: str, name: str, moment: str) -> None:
        """Run a VM snapshot operation's workflow as the manager would, and stop driving it
        ("the manager crashed") just before its snapshot command reaches the host, or just
        after the host carried it out. ``operation``: create, create-memory, revert, delete."""
        f = self.m.uow_factory
        workflow: Workflow[Any]
        kind: type[Command]
        if operation.startswith("create"):
            made = vmsnapshots.allocate(f, self.caller, self.vm_id(vm), name, None, operation == "create-memory")
            self.snapshots[name] = made.uuid
            workflow, kind = vmsnapshots.create(f, made.id), CreateVMSnapshot
        elif operation == "revert":
            snap = vmsnapshots.check_revert(f, self.caller, self.snap_id(name))
            workflow, kind = vmsnapshots.revert(f, snap.id), RevertToVMSnapshot
        else:
            snap = vmsnapshots.check_delete(f, self.caller, self.snap_id(name))
            workflow, kind = vmsnapshots.delete(f, snap.id), DeleteVMSnapshot
        command: Command = next(workflow)
        while not isinstance(command, kind):
            command = workflow.send(self.host.execute(command))
        if moment == "after":
            self.host.execute(command)
        self.abandoned.append(workflow)  # never closed: a crashed manager runs no finally block

    def crash_creating(self, vm: str, name: str, memory: str, moment: str) -> None:
        self.crash_during("create-memory" if memory == "on" else "create", vm, name, moment)

    def out_of_band_reported(self, name: str) -> bool:
        assert self.sync_report is not None
        reported = name in {checkpoint for _, checkpoint in self.sync_report.out_of_band}
        return reported and name not in {s["name"] for s in self.search()}

    def allocate_only(self, vm: str, name: str) -> None:
        """The manager crashed after recording the request, before any job ran."""
        self.snapshots[name] = vmsnapshots.allocate(self.m.uow_factory, self.caller, self.vm_id(vm), name).uuid

    def out_of_band_checkpoint(self, vm: str, name: str) -> None:
        """Someone took a checkpoint on the host directly, behind the manager's back."""
        self.host.execute(CreateVMSnapshot(VMRef(self.instances[vm]), SnapshotRef(name)))

    def sync(self) -> sync.SyncReport:
        self.sync_report = self.m.runner.run(sync.sync(self.m.uow_factory))
        return self.sync_report

    def snapshot_state(self, name: str) -> str:
        """The snapshot's state, or "gone" once it is no longer listed."""
        found = self.m.list_vm_snapshots(self.cloud.admin, snapshot_uuid=self.snap_id(name))[1]
        return str(found[0]["state"]) if found else "gone"

    # ---------------------------------------------------------------- outages in simulated time (@sim-only)

    def clock(self) -> SimulatedClockDriver:
        assert isinstance(self.host.inner, SimulatedClockDriver), "needs the @simulated-time host"
        return self.host.inner

    def storage_down_during(self, command: str, seconds: float) -> None:
        """Primary storage fails ``seconds`` into the next ``command`` (ExportVM, ...)."""
        self.clock().after_start_of(command, seconds, self.clock().timed.storage_down)

    def storage_back(self) -> None:
        self.clock().timed.storage_up_again()

    def start_during(self, command: str, seconds: float, vm: str) -> None:
        """A user asks to start ``vm`` ``seconds`` into the next ``command``."""
        self.clock().after_start_of(command, seconds, lambda: self.attempt(self.start, vm))

    def simulated_seconds(self, command: str) -> float:
        calls = [c for c in self.host.calls if c.command == command and c.sim_start is not None]
        return sum((c.sim_end or 0.0) - (c.sim_start or 0.0) for c in calls)

    # ---------------------------------------------------------------- the host (driver contract)

    def inventory(self) -> Inventory:
        return self.host.inner.execute(GetInventory(VMRef("*")))

    def host_vm(self, vm: str) -> VMInventory | None:
        return self.inventory().vm(self.instances[vm])

    def host_power(self, vm: str) -> str | None:
        found = self.host_vm(vm)
        return None if found is None else str(found.power_state)

    def host_checkpoint(self, snapshot: str) -> CheckpointInfo:
        """The host's checkpoint behind the snapshot called ``snapshot``."""
        snap = self.snap(snapshot)
        host = self.host_vm(snap["virtualmachinename"])
        assert host is not None, "the VM is not registered on the host"
        found = [c for c in host.checkpoints if c.name == snap["name"]]
        assert found, f"the host has no checkpoint {snap['name']}"
        return found[0]

    def host_checkpoint_names(self, vm: str) -> list[str]:
        host = self.host_vm(vm)
        return [] if host is None else sorted(c.name for c in host.checkpoints)

    def host_memory_flags(self, vm: str) -> str:
        """``"on, off"``: whether each checkpoint holds memory, in the host's order."""
        host = self.host_vm(vm)
        assert host is not None
        return ", ".join("on" if c.memory else "off" for c in host.checkpoints)

    def exported(self, vm: str) -> bool:
        return self.instances[vm] in self.inventory().exported

    # ---------------------------------------------------------------- reporting and clean-up
