"""The live driver over the wire against the emulated host, command by command, with the
simulated driver as the reference: the same command sequence must give the same answers
(paths compared by volume and kind, since the live driver keeps a VM's disks in its folder)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.drivers import (
    Answer,
    AttachVolume,
    Command,
    CreateVMSnapshot,
    CreateVolumeSnapshot,
    DeleteVMSnapshot,
    DeployVM,
    DestroyVM,
    DetachVolume,
    DiskSpec,
    ExportVM,
    GetInventory,
    HostError,
    ImportVM,
    InvalidState,
    ObjectNotFound,
    OperationFailed,
    OperationTimeout,
    PowerOffVM,
    PowerState,
    RegisterVM,
    RevertToVMSnapshot,
    SnapshotAnswer,
    SnapshotRef,
    StartVM,
    UnregisterVM,
    VMRef,
    VolumeState,
)
from live_driver.driver import PowerShellHyperVDriver
from simulator.driver import SimulatedHyperVDriver
from simulator.psrp_endpoint.endpoint import EmulatedHost

VM = VMRef("i-2-7-VM")
ROOT = DiskSpec("vol-root", 8 * 2**30)
DATA = DiskSpec("vol-data", 2 * 2**30)
HOSTILE = "x'; Remove-VM -Name * -Force; '$(whoami)"


def shape(value: Any) -> Any:
    """An answer with paths reduced to (volume, extension): comparable across drivers."""
    if isinstance(value, VolumeState):
        return (value.volume_uuid, value.path.rsplit(".", 1)[-1], value.chain_size)
    if isinstance(value, tuple):
        return tuple(shape(v) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        return (type(value).__name__, {k: shape(getattr(value, k)) for k in value.__dataclass_fields__})
    return value


def both(driver: PowerShellHyperVDriver, sim: SimulatedHyperVDriver, command: Command) -> Answer | type[HostError]:
    outcomes: list[Any] = []
    for d in (sim, driver):
        try:
            outcomes.append(shape(d.execute(command)))
        except HostError as err:
            outcomes.append(type(err))
    assert outcomes[1] == outcomes[0], f"{type(command).__name__}: live {outcomes[1]} != sim {outcomes[0]}"
    return outcomes[0]  # type: ignore[no-any-return]


@pytest.fixture
def sim() -> SimulatedHyperVDriver:
    return SimulatedHyperVDriver()


def test_every_contract_command_answers_as_the_simulator_does(
    driver: PowerShellHyperVDriver, sim: SimulatedHyperVDriver, endpoint: EmulatedHost
) -> None:
    steps: list[Command] = [
        DeployVM(VM, 512, 2, (ROOT,)),
        AttachVolume(VM, DATA),
        CreateVMSnapshot(VM, SnapshotRef("A"), memory=True),
        CreateVMSnapshot(VM, SnapshotRef("B")),
        CreateVMSnapshot(VM, SnapshotRef("B")),  # a duplicate name: InvalidState
        CreateVolumeSnapshot(VM, DATA),
        GetInventory(VMRef("*")),
        RevertToVMSnapshot(VM, SnapshotRef("A")),
        CreateVMSnapshot(VM, SnapshotRef("C")),
        DeleteVMSnapshot(VM, SnapshotRef("B")),
        DeleteVMSnapshot(VM, SnapshotRef("B")),  # gone: ObjectNotFound
        ExportVM(VM),
        PowerOffVM(VM),
        CreateVMSnapshot(VM, SnapshotRef("D"), memory=True),  # memory of an Off VM: InvalidState
        UnregisterVM(VM),
        GetInventory(VMRef("*")),
        StartVM(VM),  # not registered: ObjectNotFound
        DeployVM(VMRef("i-2-8-VM"), 256, 1, (DiskSpec("vol-other", 2**30),), start=False),
        RegisterVM(VMRef("i-2-8-VM"), 256, 1, ()),
        DestroyVM(VMRef("i-2-8-VM")),
        GetInventory(VMRef("*")),
        DestroyVM(VM),
        GetInventory(VMRef("*")),
    ]
    for command in steps:
        if isinstance(command, RegisterVM):  # each host named the file itself: register it from there
            for d, host in ((sim, sim.host), (driver, endpoint.host)):
                disk = DiskSpec("vol-other", 2**30, host.files("vol-other")[0])
                assert shape(d.execute(RegisterVM(command.vm, 256, 1, (disk,)))) == (
                    "VMAnswer",
                    {"power_state": "Off", "volumes": (("vol-other", "vhdx", 0),)},
                )
            continue
        both(driver, sim, command)
    assert endpoint.host.files() == [] and sim.host.files() == []
    assert endpoint.host.bytes_merged == sim.host.bytes_merged
    assert endpoint.host.bytes_exported == sim.host.bytes_exported


def test_detach_volume_snapshot_and_import_after_unregister(
    driver: PowerShellHyperVDriver, sim: SimulatedHyperVDriver
) -> None:
    for command in [
        DeployVM(VM, 512, 1, (ROOT, DATA)),
        CreateVMSnapshot(VM, SnapshotRef("A"), memory=True),
        CreateVMSnapshot(VM, SnapshotRef("B")),
        ExportVM(VM),
        PowerOffVM(VM),
        UnregisterVM(VM),
        ImportVM(VM, 1024, 2, (DiskSpec(ROOT.volume_uuid, ROOT.size), DiskSpec(DATA.volume_uuid, DATA.size))),
        GetInventory(VMRef("*")),
        RevertToVMSnapshot(VM, SnapshotRef("A")),
        DetachVolume(VM, DATA),
        DetachVolume(VM, DATA),
        CreateVolumeSnapshot(VM, ROOT),
        ImportVM(VMRef("i-9-9-VM"), 256, 1, ()),  # no export: ObjectNotFound
    ]:
        both(driver, sim, command)


def test_the_hostile_name_arrives_verbatim_and_nothing_runs(
    driver: PowerShellHyperVDriver, endpoint: EmulatedHost
) -> None:
    driver.execute(DeployVM(VM, 512, 1, (ROOT,)))
    driver.execute(DeployVM(VMRef("bystander"), 512, 1, (DATA,)))
    endpoint.received.clear()

    driver.execute(CreateVMSnapshot(VM, SnapshotRef(HOSTILE)))
    listed = driver.execute(GetInventory(VMRef("*")))
    assert [c.name for c in listed.vm(VM.name).checkpoints] == [HOSTILE]  # type: ignore[union-attr]
    driver.execute(RevertToVMSnapshot(VM, SnapshotRef(HOSTILE)))
    driver.execute(DeleteVMSnapshot(VM, SnapshotRef(HOSTILE)))

    assert ("SnapshotName", HOSTILE) in endpoint.received[
        next(i for i, c in enumerate(endpoint.received) if c.name == "Checkpoint-VM")
    ].params
    assert not any(c.is_script for c in endpoint.received)
    assert all(name is not None for c in endpoint.received for name, _ in c.params)
    # the name never went out as a (wildcard) filter, only as the new checkpoint's name and
    # as the value of the exact, case-sensitive comparison that checks it is not taken
    carried = [c for c in endpoint.received if any(v == HOSTILE for _, v in c.params)]
    assert [c.name for c in carried] == ["Where-Object", "Checkpoint-VM"]
    assert ("CEQ", True) in carried[0].params and ("Value", HOSTILE) in carried[0].params
    assert {c.name for c in endpoint.received} <= set(endpoint.cmdlets.table_names())
    assert sorted(endpoint.host.vms) == ["bystander", VM.name]
    assert endpoint.host.vm(VM.name).checkpoints == {}


@pytest.mark.parametrize(
    ("setup", "command", "error"),
    [
        (lambda h: None, StartVM(VM), ObjectNotFound),
        (lambda h: None, RevertToVMSnapshot(VM, SnapshotRef("nope")), ObjectNotFound),
        (lambda h: None, StartVM(VM), InvalidState),
        (
            lambda h: setattr(h, "vss_fails", True),
            CreateVMSnapshot(VM, SnapshotRef("q"), quiesce=True),
            OperationFailed,
        ),
        (lambda h: setattr(h, "capacity", 1), CreateVMSnapshot(VM, SnapshotRef("full")), OperationFailed),
    ],
    ids=["vm-not-found", "snapshot-not-found", "invalid-state", "vss-failed", "disk-full"],
)
def test_host_errors_map_to_the_simulators_classes(
    driver: PowerShellHyperVDriver,
    sim: SimulatedHyperVDriver,
    endpoint: EmulatedHost,
    setup: Any,
    command: Command,
    error: type[HostError],
) -> None:
    if error is not ObjectNotFound or isinstance(command, RevertToVMSnapshot):
        both(driver, sim, DeployVM(VM, 512, 1, (ROOT,)))
    setup(sim.host)
    setup(endpoint.host)
    outcome = both(driver, sim, command)
    assert isinstance(outcome, type) and issubclass(outcome, error)


def test_a_host_timeout_is_an_operation_timeout(driver: PowerShellHyperVDriver, endpoint: EmulatedHost) -> None:
    driver.execute(DeployVM(VM, 512, 1, (ROOT,)))
    endpoint.cmdlets.faults.append(("Checkpoint-VM", OperationTimeout("The operation timed out.")))
    with pytest.raises(OperationTimeout):
        driver.execute(CreateVMSnapshot(VM, SnapshotRef("A")))
    assert endpoint.host.vm(VM.name).checkpoints == {}


def test_delete_waits_for_the_merge(driver: PowerShellHyperVDriver, endpoint: EmulatedHost) -> None:
    driver.execute(DeployVM(VM, 512, 1, (ROOT,)))
    driver.execute(CreateVMSnapshot(VM, SnapshotRef("A")))
    endpoint.cmdlets.merge_polls = 3
    endpoint.received.clear()
    driver.execute(DeleteVMSnapshot(VM, SnapshotRef("A")))
    assert [c.name for c in endpoint.received].count("Get-VM") == 4


def test_a_merge_that_never_ends_times_out(endpoint: EmulatedHost) -> None:
    config = endpoint.driver_config(merge_poll_seconds=0.01, merge_timeout_seconds=0.05)
    with PowerShellHyperVDriver(**config) as driver:
        driver.execute(DeployVM(VM, 512, 1, (ROOT,)))
        driver.execute(CreateVMSnapshot(VM, SnapshotRef("A")))
        endpoint.cmdlets.merge_polls = 1000
        with pytest.raises(OperationTimeout):
            driver.execute(DeleteVMSnapshot(VM, SnapshotRef("A")))


def test_the_pool_is_opened_once_and_reused(driver: PowerShellHyperVDriver) -> None:
    for _ in range(3):
        driver.execute(GetInventory(VMRef("*")))
    assert driver.session.opened == 1


def test_guest_data_is_not_on_the_wire(driver: PowerShellHyperVDriver, endpoint: EmulatedHost) -> None:
    assert driver.capabilities.guest_data is False
    driver.execute(DeployVM(VM, 512, 1, (ROOT,)))
    endpoint.host.write(VM.name, "k", "before")  # the guest, reached in-process
    driver.execute(CreateVMSnapshot(VM, SnapshotRef("A"), memory=True))
    endpoint.host.write(VM.name, "k", "after")
    driver.execute(RevertToVMSnapshot(VM, SnapshotRef("A")))
    assert endpoint.host.read(VM.name, "k") == "before"


def test_a_checkpoint_the_driver_has_seen_is_addressed_by_id(
    driver: PowerShellHyperVDriver, endpoint: EmulatedHost
) -> None:
    driver.execute(DeployVM(VM, 512, 1, (ROOT,)))
    driver.execute(CreateVMSnapshot(VM, SnapshotRef("A"), memory=True))
    driver.execute(CreateVMSnapshot(VM, SnapshotRef("B")))
    endpoint.received.clear()
    driver.execute(RevertToVMSnapshot(VM, SnapshotRef("A")))
    driver.execute(DeleteVMSnapshot(VM, SnapshotRef("B")))
    # no listing of the VM's checkpoints: each went straight to Get-VMSnapshot -Id
    assert not any(c.name == "Get-VMSnapshot" and c.params[0][0] == "VMName" for c in endpoint.received)
    assert endpoint.host.vm(VM.name).current == "A" and list(endpoint.host.vm(VM.name).checkpoints) == ["A"]
    # a driver that has not seen them (a new process) lists first, and ends the same
    endpoint.host.checkpoint(VM.name, "C", False, False)  # behind the drivers' backs
    with PowerShellHyperVDriver(**endpoint.driver_config(merge_poll_seconds=0.01)) as cold:
        endpoint.received.clear()
        cold.execute(DeleteVMSnapshot(VM, SnapshotRef("C")))
        assert [c.name for c in endpoint.received][:2] == ["Get-VMSnapshot", "Get-VMSnapshot"]
    assert list(endpoint.host.vm(VM.name).checkpoints) == ["A"]


def test_a_checkpoint_taken_again_under_a_deleted_ones_name_is_another_object(
    driver: PowerShellHyperVDriver, endpoint: EmulatedHost
) -> None:
    """Two managers, one host: one driver saw "A" with memory; another deleted it and took a
    disk-only "A". Hyper-V gives the new checkpoint a new Id, so the first driver's Id finds
    nothing, it looks "A" up again, and the revert leaves the VM off (no memory to resume)."""
    driver.execute(DeployVM(VM, 512, 1, (ROOT,)))
    driver.execute(CreateVMSnapshot(VM, SnapshotRef("A"), memory=True))
    first = endpoint.cmdlets.checkpoint_id(VM.name, "A")
    with PowerShellHyperVDriver(**endpoint.driver_config(merge_poll_seconds=0.01)) as other:
        other.execute(DeleteVMSnapshot(VM, SnapshotRef("A")))
        other.execute(CreateVMSnapshot(VM, SnapshotRef("A"), memory=False))
    assert endpoint.cmdlets.checkpoint_id(VM.name, "A") != first
    answer = driver.execute(RevertToVMSnapshot(VM, SnapshotRef("A")))
    assert endpoint.host.vm(VM.name).power_state == PowerState.Off
    assert isinstance(answer, SnapshotAnswer) and answer.power_state == PowerState.Off


def test_an_inventory_is_one_round_trip_whatever_the_fleet(
    driver: PowerShellHyperVDriver, sim: SimulatedHyperVDriver
) -> None:
    for command in [
        DeployVM(VM, 512, 1, (ROOT, DATA)),
        CreateVMSnapshot(VM, SnapshotRef("A")),
        CreateVMSnapshot(VM, SnapshotRef("B")),
        DeployVM(VMRef("i-2-8-VM"), 256, 1, (DiskSpec("vol-other", 2**30),)),
        ExportVM(VMRef("i-2-8-VM")),
    ]:
        both(driver, sim, command)
    sent: list[Any] = []
    run = driver.session.run

    def counted(invocation: Any) -> Any:
        sent.append(invocation)
        return run(invocation)

    driver.session.run = counted  # type: ignore[method-assign]
    both(driver, sim, GetInventory(VMRef("*")))
    assert len(sent) == 1


def test_a_create_is_one_round_trip_and_its_checks_run_on_the_host(
    driver: PowerShellHyperVDriver, endpoint: EmulatedHost
) -> None:
    driver.execute(DeployVM(VM, 512, 1, (ROOT,)))
    set_vm = endpoint.cmdlets.table["set-vm"]
    retyped: list[Any] = []
    real = set_vm.run
    set_vm.run = lambda b: retyped.append(b.input) or real(b)
    sent = driver.session.run
    invocations: list[Any] = []
    driver.session.run = lambda inv: invocations.append(inv) or sent(inv)  # type: ignore[method-assign]

    driver.execute(CreateVMSnapshot(VM, SnapshotRef("A")))  # a new VM is of type Production already
    assert len(invocations) == 1 and retyped == [[]]  # Set-VM got no VM: nothing was set
    driver.execute(CreateVMSnapshot(VM, SnapshotRef("a"), memory=True))  # names compare case-sensitively
    assert len(retyped[-1]) == 1 and endpoint.cmdlets.checkpoint_types[VM.name] == "Standard"
    with pytest.raises(InvalidState, match="already exists"):
        driver.execute(CreateVMSnapshot(VM, SnapshotRef("A")))
    driver.execute(PowerOffVM(VM))
    with pytest.raises(InvalidState, match="not running"):
        driver.execute(CreateVMSnapshot(VM, SnapshotRef("B"), memory=True))
    with pytest.raises(ObjectNotFound):
        driver.execute(CreateVMSnapshot(VMRef("no-such-vm"), SnapshotRef("A")))
    assert sorted(endpoint.host.vm(VM.name).checkpoints) == ["A", "a"]
    assert len(invocations) == 6  # every create, failed or not, was one round trip
