"""Every Gherkin step, shared by all features: one line each, spoken to the ``cloud``
fixture (``harness.pytest_plugin.ScenarioCloud``). No rule lives here: what a step
expects is written in the feature."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import parse
import pytest
from faker import Faker
from pytest_bdd import given, parsers, step, then, when

from features.steps.guests import GuestSessions
from features.steps.timed import SimulatedClockDriver
from features.steps.vocabulary import ScenarioCloud as C
from harness.pytest_plugin import GuestAccess
from harness.service.cloud import Cloud

FAKER_SEED = 4242


@pytest.fixture
def hvsnap_driver(request: pytest.FixtureRequest) -> SimulatedClockDriver | None:
    """@simulated-time scenarios run on a host in SimPy time (their faults are timed)."""
    return SimulatedClockDriver(FAKER_SEED) if request.node.get_closest_marker("simulated-time") else None


@pytest.fixture
def cloud(hvsnap_cloud: Cloud, hvsnap_guests: GuestAccess | None) -> Iterator[C]:
    """The scenario's cloud, spoken to by name; guest data comes from a seeded Faker and
    goes into the guests over SSH where they are reachable."""
    fake = Faker()
    fake.seed_instance(FAKER_SEED)
    sessions = GuestSessions(hvsnap_guests) if hvsnap_guests is not None else None
    try:
        yield C(hvsnap_cloud, fake, sessions)
    finally:
        if sessions is not None:
            sessions.close()


@parse.with_pattern(r'[^"]*')
def _name(text: str) -> str:
    return text


@parse.with_pattern(r"on|off|mixed")
def _switch(text: str) -> str:
    return text


@parse.with_pattern(r"running|stopped")
def _power(text: str) -> str:
    return text


def P(text: str) -> Any:
    """A step pattern: {x:N} a quoted name, {x:S} on/off/mixed, {x:P} running/stopped."""
    return parsers.parse(text, extra_types={"N": _name, "S": _switch, "P": _power})


def on(switch: str) -> bool:
    return switch == "on"


# --------------------------------------------------------------------------- the cloud

@given(P('a domain "{name:N}"'))
def _(cloud: C, name: str) -> None: cloud.domain(name)
@given(P('an account "{name:N}" in domain "{domain:N}"'))
def _(cloud: C, name: str, domain: str) -> None: cloud.account(name, domain)
@given(P('an account "{name:N}"'))
def _(cloud: C, name: str) -> None: cloud.account(name)
@given(P('I act as "{name:N}"'))
def _(cloud: C, name: str) -> None: cloud.act_as(name)
@given(P('the configuration "{key:N}" is "{value:N}"'))
def _(cloud: C, key: str, value: str) -> None: cloud.config(key, value)
@when(P('I try to set the configuration "{key:N}" to "{value:N}"'))
def _(cloud: C, key: str, value: str) -> None: cloud.attempt(cloud.config, key, value)
@step(P('the export strategy is "{strategy:N}"'))
def _(cloud: C, strategy: str) -> None: cloud.config("hyperv.vmsnapshot.export.strategy", strategy)
@given("VM snapshots are disabled for Hyper-V")
def _(cloud: C) -> None: cloud.vm_snapshots_enabled(False)
@given("VM snapshots are enabled for Hyper-V")
def _(cloud: C) -> None: cloud.vm_snapshots_enabled(True)
@then("the Hyper-V capability shows VM snapshots disabled")
def _(cloud: C) -> None: assert [c["vmsnapshotenabled"] for c in cloud.m.list_capabilities()] == [False]
@given("the host declares no guest data")
def _(cloud: C) -> None: cloud.declare_no_guest_data()
@when(P('I try to write guest data into "{vm:N}"'))
def _(cloud: C, vm: str) -> None: cloud.attempt(cloud.write_through_manager, vm)
@then(P("the host was sent no {command:w} command"))
def _(cloud: C, command: str) -> None: assert cloud.sent(command) == 0


# --------------------------------------------------------------------------- VMs

@given(P('a {state:P} VM "{vm:N}" owned by "{owner:N}"'))
def _(cloud: C, state: str, vm: str, owner: str) -> None: cloud.deploy(vm, state, owner)
@given(P('a {state:P} VM "{vm:N}"'))
def _(cloud: C, state: str, vm: str) -> None: cloud.deploy(vm, state)
@given(P('"{vm:N}" is {state:P}'))
def _(cloud: C, vm: str, state: str) -> None: cloud.put(vm, state)
@given(P('"{vm:N}" is destroyed'))
def _(cloud: C, vm: str) -> None: cloud.destroy(vm)
@when(P('I stop "{vm:N}"'))
def _(cloud: C, vm: str) -> None: cloud.stop(vm)
@when(P('I start "{vm:N}"'))
def _(cloud: C, vm: str) -> None: cloud.start(vm)
@when(P('I destroy "{vm:N}" with expunge {expunge:S}'))
def _(cloud: C, vm: str, expunge: str) -> None: cloud.destroy(vm, on(expunge))
@then(P('"{vm:N}" is {state:w}'))
def _(cloud: C, vm: str, state: str) -> None: assert cloud.state(vm) == state
@given(P('the service offering of "{vm:N}" is changed to "{offering:N}"'))
def _(cloud: C, vm: str, offering: str) -> None: cloud.change_offering(vm, offering)
@when(P('I change the service offering of "{vm:N}" to "{offering:N}"'))
def _(cloud: C, vm: str, offering: str) -> None: cloud.change_offering(vm, offering)
@when(P('I try to change the service offering of "{vm:N}" to "{offering:N}"'))
def _(cloud: C, vm: str, offering: str) -> None: cloud.attempt(cloud.change_offering, vm, offering)
@then(P('the service offering of "{vm:N}" is "{offering:N}"'))
def _(cloud: C, vm: str, offering: str) -> None: assert cloud.offering(vm) == offering


# --------------------------------------------------------------------------- guest data

@given(P('data written to "{vm:N}"'))
def _(cloud: C, vm: str) -> None: cloud.write(vm)
@step(P('new data written to "{vm:N}"'))
def _(cloud: C, vm: str) -> None: cloud.write(vm)
@when(P('I write new data to "{vm:N}"'))
def _(cloud: C, vm: str) -> None: cloud.write(vm)
@then(P('"{vm:N}" holds the data of "{snapshot:N}"'))
def _(cloud: C, vm: str, snapshot: str) -> None: cloud.holds_data_of(vm, snapshot)
@then(P('"{vm:N}" holds its latest data'))
def _(cloud: C, vm: str) -> None: cloud.holds_latest_data(vm)
@then(P('"{vm:N}" keeps its latest data until reverted'))
def _(cloud: C, vm: str) -> None: cloud.holds_latest_data(vm)


# --------------------------------------------------------------------------- taking snapshots

@given(P('a snapshot "{name:N}" of "{vm:N}" with memory {memory:S}'))
def _(cloud: C, name: str, vm: str, memory: str) -> None: cloud.snapshot(vm, name, on(memory))
@when(P('I take a snapshot "{name:N}" of "{vm:N}" with memory {memory:S} and quiesce {quiesce:S}'))
def _(cloud: C, name: str, vm: str, memory: str, quiesce: str) -> None: cloud.take(vm, name, memory, quiesce)
@when(P('I take a snapshot "{name:N}" of "{vm:N}" with memory {memory:S}'))
def _(cloud: C, name: str, vm: str, memory: str) -> None: cloud.snapshot(vm, name, on(memory))
@when(P('I try to take a snapshot "{name:N}" of "{vm:N}" with memory {memory:S} and quiesce {quiesce:S}'))
def _(cloud: C, name: str, vm: str, memory: str, quiesce: str) -> None: cloud.try_take(vm, name, memory, quiesce)
@when(P('I try to take a snapshot "{name:N}" of "{vm:N}" with memory {memory:S}'))
def _(cloud: C, name: str, vm: str, memory: str) -> None: cloud.attempt(cloud.snapshot, vm, name, on(memory))
@given(P('{count:d} snapshots of "{vm:N}" with memory {memory:S}'))
def _(cloud: C, count: int, vm: str, memory: str) -> None: cloud.snapshots_in_a_row(vm, count, memory)
@when(P('I take {count:d} snapshots of "{vm:N}" with memory {memory:S}'))
def _(cloud: C, count: int, vm: str, memory: str) -> None: cloud.snapshots_in_a_row(vm, count, memory)
@when(P('I take {count:d} snapshots of "{vm:N}" within one second'))
def _(cloud: C, count: int, vm: str) -> None: cloud.snapshots_in_a_row(vm, count, "off")
@when(P('I take an unnamed snapshot of "{vm:N}"'))
def _(cloud: C, vm: str) -> None: cloud.snapshot(vm)
@given(P('the snapshots "{spec:N}" of "{vm:N}"'))
def _(cloud: C, spec: str, vm: str) -> None: cloud.snapshots_as(vm, spec)
@given(P('the snapshot tree "{tree:N}" of "{vm:N}" with memory {memory:S}, taken while {state:P}'))
def _(cloud: C, tree: str, vm: str, memory: str, state: str) -> None: cloud.build(vm, tree, memory, state)
@given(P('the snapshot tree "{tree:N}" of "{vm:N}" with memory {memory:S}'))
def _(cloud: C, tree: str, vm: str, memory: str) -> None: cloud.build(vm, tree, memory)
@given(P('"{owner:N}" took a snapshot "{name:N}" of "{vm:N}" described as "{text:N}"'))
def _(cloud: C, owner: str, name: str, vm: str, text: str) -> None: cloud.took_as(owner, vm, name, text)


# --------------------------------------------------------------------------- revert and delete

@when(P('I revert "{vm:N}" to "{name:N}"'))
def _(cloud: C, vm: str, name: str) -> None: cloud.revert(name)
@when(P('I try to revert "{vm:N}" to "{name:N}"'))
def _(cloud: C, vm: str, name: str) -> None: cloud.attempt(cloud.revert, name)
@when(P('I delete the snapshot "{name:N}"'))
def _(cloud: C, name: str) -> None: cloud.delete(name)
@given(P('the snapshot "{name:N}" is deleted'))
def _(cloud: C, name: str) -> None: cloud.delete(name)
@when(P('I try to delete the snapshot "{name:N}"'))
def _(cloud: C, name: str) -> None: cloud.attempt(cloud.delete, name)
@when(P('I delete all snapshots of "{vm:N}"'))
def _(cloud: C, vm: str) -> None: cloud.delete_all(vm)


# --------------------------------------------------------------------------- operations by name

@when(P('I try to "{second:N}" while "{first:N}" is in flight on "{vm:N}"'))
def _(cloud: C, second: str, first: str, vm: str) -> None: cloud.while_in_flight(second, first, vm)
@then(P('"{first:N}" completed'))
def _(cloud: C, first: str) -> None: cloud.first_completed()
@when(P('I try to "{operation:N}" on "{vm:N}"'))
def _(cloud: C, operation: str, vm: str) -> None: cloud.attempt(cloud.operation(operation, vm))
@when(P('I try to "{operation:N}" with the id "{uuid}"'))
def _(cloud: C, operation: str, uuid: str) -> None: cloud.attempt(cloud.operation_on_id(operation, uuid))


# --------------------------------------------------------------------------- volumes

@given(P('a data volume "{volume:N}" attached to "{vm:N}"'))
def _(cloud: C, volume: str, vm: str) -> None: cloud.attach(cloud.create_volume(volume), vm)
@given(P('a data volume "{volume:N}"'))
def _(cloud: C, volume: str) -> None: cloud.create_volume(volume)
@when(P('I try to attach the volume "{volume:N}" on "{vm:N}"'))
def _(cloud: C, volume: str, vm: str) -> None: cloud.attempt(cloud.attach, volume, vm)
@when(P('I try to detach the volume "{volume:N}" on "{vm:N}"'))
def _(cloud: C, volume: str, vm: str) -> None: cloud.attempt(cloud.detach, volume, vm)
@given(P('a volume snapshot of the ROOT volume of "{vm:N}"'))
def _(cloud: C, vm: str) -> None: cloud.volume_snapshot(vm)
@when(P('I try to take a volume snapshot of the ROOT volume of "{vm:N}"'))
def _(cloud: C, vm: str) -> None: cloud.attempt(cloud.volume_snapshot, vm)
@then("the volume snapshot is BackedUp with data")
def _(cloud: C) -> None: assert cloud.volume_snapshot_result() == ("BackedUp", True)
@then(P('every volume of "{vm:N}" is active on a checkpoint file'))
def _(cloud: C, vm: str) -> None: assert all(v["path"].endswith(".avhdx") for v in cloud.volumes_of(vm))


# --------------------------------------------------------------------------- outcomes

@then(P('the request is refused with error {code:d} saying "{text:N}"'))
def _(cloud: C, code: int, text: str) -> None: cloud.refused(code, text)
@then(P("the request is refused with error {code:d}"))
def _(cloud: C, code: int) -> None: cloud.refused(code)
@then("the request is refused")
def _(cloud: C) -> None: cloud.refused(431)
@then("the request succeeds")
def _(cloud: C) -> None: cloud.accepted()
@then("the request is accepted")
def _(cloud: C) -> None: cloud.accepted()


# --------------------------------------------------------------------------- snapshots, checked

@then(P('the snapshot "{name:N}" is Ready with type {kind:w}'))
def _(cloud: C, name: str, kind: str) -> None: assert cloud.state_and_type(name) == ("Ready", kind)
@then(P('the snapshot "{name:N}" is in state {state:w}'))
def _(cloud: C, name: str, state: str) -> None: assert cloud.snap(name)["state"] == state
@then(P('the snapshot "{name:N}" is not current'))
def _(cloud: C, name: str) -> None: assert cloud.snap(name)["current"] is False
@then(P('"{name:N}" is the current snapshot of "{vm:N}"'))
def _(cloud: C, name: str, vm: str) -> None: assert [n for n, s in cloud.of_vm(vm).items() if s["current"]] == [name]
@then(P('"{name:N}" is not listed'))
def _(cloud: C, name: str) -> None: assert cloud.search(snapshot_uuid=cloud.snap_id(name)) == []
@then(P('"{vm:N}" has no snapshots'))
def _(cloud: C, vm: str) -> None: assert cloud.of_vm(vm) == {}
@then(P('"{vm:N}" has {count:d} snapshots'))
def _(cloud: C, vm: str, count: int) -> None: assert len(cloud.of_vm(vm)) == count
@then(P('the snapshots of "{vm:N}" are "{names:N}"'))
def _(cloud: C, vm: str, names: str) -> None: assert sorted(cloud.of_vm(vm)) == cloud.names(names)
@then(P('the snapshot tree of "{vm:N}" is "{tree:N}"'))
def _(cloud: C, vm: str, tree: str) -> None: assert cloud.tree(vm) == cloud.canonical(tree)
@then(P('every snapshot of "{vm:N}" restores its own data when reverted from {state:P}'))
def _(cloud: C, vm: str, state: str) -> None: cloud.restores_each(vm, state)
@then(P('every snapshot of "{vm:N}" has an internal name like "i-N-N-VM_VS_yyyyMMddHHmmss"'))
def _(cloud: C, vm: str) -> None: assert all(cloud.is_internal_name(s["name"]) for s in cloud.of_vm(vm).values())
@then(P("the internal names of \"{vm:N}\"'s snapshots are all different"))
def _(cloud: C, vm: str) -> None: assert len({s["name"] for s in cloud.of_vm(vm).values()}) == len(cloud.of_vm(vm))
@then("the listed snapshot's display name is its internal name")
def _(cloud: C) -> None: assert [s["displayname"] == s["name"] for s in cloud.search()] == [True]


# --------------------------------------------------------------------------- the host (driver contract)

@then(P('"{vm:N}" is not registered on the host'))
def _(cloud: C, vm: str) -> None: assert cloud.host_vm(vm) is None
@then(P('the host reports "{vm:N}" as {state:w}'))
def _(cloud: C, vm: str, state: str) -> None: assert cloud.host_power(vm) == state
@then(P('the host\'s checkpoint tree of "{vm:N}" is "{tree:N}"'))
def _(cloud: C, vm: str, tree: str) -> None: assert cloud.host_tree(vm) == cloud.canonical(tree)
@then(P('the host\'s checkpoint of "{name:N}" holds memory {memory:S}'))
def _(cloud: C, name: str, memory: str) -> None: assert cloud.host_checkpoint(name).memory is on(memory)
@then(P('the host\'s checkpoints of "{vm:N}" hold memory "{memory:N}"'))
def _(cloud: C, vm: str, memory: str) -> None: assert cloud.host_memory_flags(vm) == memory
@then(P('the host\'s checkpoints of "{vm:N}" are the {count:d} snapshots'))
def _(cloud: C, vm: str, count: int) -> None: assert cloud.host_checkpoint_names(vm) == cloud.internal_names(vm, count)
@then(P('"{vm:N}" has no checkpoints on the host'))
def _(cloud: C, vm: str) -> None: assert cloud.host_checkpoint_names(vm) == []
@then(P("the host ran {count:d} exports in all"))
def _(cloud: C, count: int) -> None: assert cloud.host.count("ExportVM") == count
@then(P('the host holds no export of "{vm:N}"'))
def _(cloud: C, vm: str) -> None: assert not cloud.exported(vm)


# --------------------------------------------------------------------------- listing

@when(P('I list snapshots with {filter:w} "{value:N}"'))
def _(cloud: C, filter: str, value: str) -> None: cloud.list_by(filter, value)
@when(P('I try to list snapshots with {filter:w} "{value:N}"'))
def _(cloud: C, filter: str, value: str) -> None: cloud.attempt(cloud.list_by, filter, value)
@when("I list all snapshots")
def _(cloud: C) -> None: cloud.search()
@when(P("I list page {page:d} of size {size:d}"))
def _(cloud: C, page: int, size: int) -> None: cloud.search(page=page, pagesize=size)
@then(P('the listing is "{names:N}"'))
def _(cloud: C, names: str) -> None: assert cloud.listed_names() == cloud.names(names, keep_order=True)
@then(P("the listing has {count:d} snapshots of {total:d} in all"))
def _(cloud: C, count: int, total: int) -> None: assert (len(cloud.listed), len(cloud.search())) == (count, total)


# --------------------------------------------------------------------------- odd names (the line's rest is the value)

LONG = r'I try to take a snapshot of "(?P<vm>[^"]*)" with a (?P<field>\w+) of (?P<n>\d+) characters "(?P<char>.*)"'
@when(parsers.re(LONG))
def _(cloud: C, vm: str, field: str, n: str, char: str) -> None: cloud.try_with_text(vm, field, char * int(n))
@when(parsers.re(r'I take a snapshot of "(?P<vm>[^"]*)" named: (?P<name>(?s:.*))'))
def _(cloud: C, vm: str, name: str) -> None: cloud.snapshot(vm, name)
@when(parsers.re(r'I take a snapshot "(?P<name>[^"]*)" of "(?P<vm>[^"]*)" described as: (?P<text>(?s:.*))'))
def _(cloud: C, name: str, vm: str, text: str) -> None: cloud.snapshot(vm, name, description=text)
@then(parsers.re(r"the listed display name is exactly: (?P<name>(?s:.*))"))
def _(cloud: C, name: str) -> None: assert [s["displayname"] for s in cloud.search()] == [name]
@then(parsers.re(r'the listed description of "(?P<name>[^"]*)" is exactly: (?P<text>(?s:.*))'))
def _(cloud: C, name: str, text: str) -> None: assert cloud.snap(name)["description"] == text
@then("the host's checkpoint of that snapshot has an internal name")
def _(cloud: C) -> None: assert cloud.is_internal_name(cloud.host_checkpoint(cloud.last_snapshot()).name)
@then("a keyword search for the whole name finds exactly that snapshot")
def _(cloud: C) -> None: assert cloud.keyword_finds_only(cloud.last_snapshot())
@then("the snapshot can be reverted to")
def _(cloud: C) -> None: assert cloud.revert(cloud.last_snapshot())["virtualmachine"]["state"] == "Stopped"


# --------------------------------------------------------------------------- crashes and sync

@given(P('the manager crashed {moment:w} the host took snapshot "{name:N}" of "{vm:N}" with memory {memory:S}'))
def _(cloud: C, moment: str, name: str, vm: str, memory: str) -> None: cloud.crash_creating(vm, name, memory, moment)
@given(P('the manager crashed {moment:w} the host reverted "{vm:N}" to "{name:N}"'))
def _(cloud: C, moment: str, vm: str, name: str) -> None: cloud.crash_during("revert", vm, name, moment)
@given(P('the manager crashed {moment:w} the host deleted "{name:N}" of "{vm:N}"'))
def _(cloud: C, moment: str, name: str, vm: str) -> None: cloud.crash_during("delete", vm, name, moment)
@given(P('the manager crashed right after accepting a snapshot "{name:N}" of "{vm:N}"'))
def _(cloud: C, name: str, vm: str) -> None: cloud.allocate_only(vm, name)
@given(P('someone took a checkpoint "{name:N}" of "{vm:N}" directly on the host'))
def _(cloud: C, name: str, vm: str) -> None: cloud.out_of_band_checkpoint(vm, name)
@when("the manager restarts and syncs with the host")
def _(cloud: C) -> None: cloud.sync()
@then(P('the snapshot "{name:N}" is {state:w} after the sync'))
def _(cloud: C, name: str, state: str) -> None: assert cloud.snapshot_state(name) == state
@then(P('the sync reports the out-of-band checkpoint "{name:N}" without importing it'))
def _(cloud: C, name: str) -> None: assert cloud.out_of_band_reported(name)
@then("the sync settles nothing")
def _(cloud: C) -> None: assert cloud.sync_report is not None and cloud.sync_report.settled == []


# --------------------------------------------------------------------------- outages in simulated time

@given(P("primary storage goes down {seconds:g} seconds into the next {command:w}"))
def _(cloud: C, seconds: float, command: str) -> None: cloud.storage_down_during(command, seconds)
@when("primary storage comes back")
def _(cloud: C) -> None: cloud.storage_back()
@given(P('a start of "{vm:N}" is requested {seconds:g} seconds into the next {command:w}'))
def _(cloud: C, vm: str, seconds: float, command: str) -> None: cloud.start_during(command, seconds, vm)
@when(P('I try to stop "{vm:N}"'))
def _(cloud: C, vm: str) -> None: cloud.attempt(cloud.stop, vm)
@then(P("the host log shows {command:w} taking simulated time"))
def _(cloud: C, command: str) -> None: assert cloud.simulated_seconds(command) > 0

