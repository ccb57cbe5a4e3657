"""commands.py is pure: plans are driven here with hand-made host replies, no socket."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pytest

from harness.drivers import (
    CreateVMSnapshot,
    DeleteVMSnapshot,
    HostError,
    InsufficientSpace,
    InvalidState,
    ObjectNotFound,
    OperationFailed,
    OperationTimeout,
    PowerState,
    RevertToVMSnapshot,
    SnapshotAnswer,
    SnapshotRef,
    StorageUnavailable,
    VMRef,
)
from live_driver.commands import Known, Layout, plan, volume_of
from live_driver.driver import classify
from live_driver.session import ErrorInfo
from live_driver.steps import NAME_TAKEN, NOT_RUNNING
from live_driver.wire import SWITCH, Cmdlet, Int64, Invocation, PSObj, Sleep, cmd

HV = "Microsoft.HyperV.PowerShell"
HOSTILE = "x*'; Remove-VM -Name * -Force; '$(whoami)"


def vm(state: str = "Running", status: Sequence[str] = ("Ok",)) -> PSObj:
    return PSObj((f"{HV}.VirtualMachine",), {"Name": "vm", "State": state, "OperationalStatus": list(status)})


def snap(name: str, state: str = "Off", sid: uuid.UUID | None = None) -> PSObj:
    return PSObj((f"{HV}.VMSnapshot",), {"Name": name, "State": state, "Id": sid or uuid.uuid4(), "VMName": "vm"})


def drive(path: str) -> PSObj:
    return PSObj((f"{HV}.HardDiskDrive",), {"Path": path, "VMName": "vm"})


def vhd(path: str, parent: str | None, size: int) -> PSObj:
    return PSObj(
        ("Microsoft.Vhd.PowerShell.VirtualHardDisk",), {"Path": path, "ParentPath": parent or "", "FileSize": size}
    )


class Host:
    """Answers each invocation by the first cmdlet's name; records what was sent."""

    def __init__(self, replies: dict[str, Any]) -> None:
        self.replies, self.sent = replies, []  # type: ignore[var-annotated]

    def drive(self, steps: Any) -> Any:
        reply: Any = None
        error: HostError | None = None
        while True:
            try:
                step = steps.throw(error) if error is not None else steps.send(reply)
            except StopIteration as done:
                return done.value
            reply, error = None, None
            if isinstance(step, Sleep):
                continue
            self.sent.append(step)
            key = step.statements[0][0].name
            answer = self.replies[key]
            reply = answer(step) if callable(answer) else answer
            if isinstance(reply, HostError):  # the host's error, thrown into the plan
                reply, error = None, reply

    def cmdlets(self) -> list[Cmdlet]:
        return [c for inv in self.sent for st in inv.statements for c in st]


def test_cmd_appends_error_action_stop_and_guards_int32() -> None:
    assert cmd("Start-VM", Name="vm").params == (("Name", "vm"), ("ErrorAction", "Stop"))
    with pytest.raises(ValueError, match="Int64"):
        cmd("Set-VM", Name="vm", MemoryStartupBytes=4 * 2**30)
    assert cmd("Set-VM", MemoryStartupBytes=Int64(4 * 2**30)).params[0] == ("MemoryStartupBytes", Int64(4 * 2**30))


def test_revert_matches_the_name_exactly_and_restores_by_id() -> None:
    target = uuid.uuid4()
    host = Host(
        {"Get-VHD": [vhd("C:\\s\\vm\\r_2.avhdx", "C:\\s\\vm\\r.vhdx", 100), vhd("C:\\s\\vm\\r.vhdx", None, 999)]}
    )
    host.replies["Get-VMSnapshot"] = lambda inv: (
        [snap("x-other"), snap(HOSTILE, "Saved", target)]
        if inv.readonly
        else [vm("Running"), drive("C:\\s\\vm\\r_2.avhdx")]
    )
    answer = host.drive(plan(RevertToVMSnapshot(VMRef("vm"), SnapshotRef(HOSTILE)), Layout()))
    assert answer == SnapshotAnswer(PowerState.Running, answer.volumes)
    assert answer.volumes[0].chain_size == 100 and answer.volumes[0].volume_uuid == "r"
    restore = host.sent[1].statements
    assert [c.name for c in restore[0]] == ["Get-VMSnapshot", "Restore-VMSnapshot"]
    assert ("Id", target) in restore[0][0].params and ("Confirm", False) in restore[0][1].params
    # a memory checkpoint resumes the VM, and Start-VM -Passthru stands in for Get-VM
    assert [s[0].name for s in restore[1:]] == ["Start-VM", "Get-VMHardDiskDrive", "Get-ChildItem"]
    assert ("Passthru", SWITCH) in restore[1][0].params
    assert not any(v == HOSTILE for c in host.cmdlets() for _, v in c.params)


def test_a_missing_or_ambiguous_checkpoint_is_refused() -> None:
    host = Host({"Get-VMSnapshot": [snap("A"), snap("A")]})
    with pytest.raises(OperationFailed, match="refusing to guess"):
        host.drive(plan(DeleteVMSnapshot(VMRef("vm"), SnapshotRef("A")), Layout()))
    with pytest.raises(ObjectNotFound):
        Host({"Get-VMSnapshot": []}).drive(plan(DeleteVMSnapshot(VMRef("vm"), SnapshotRef("A")), Layout()))


def test_create_picks_the_checkpoint_type_and_refuses_memory_of_an_off_vm() -> None:
    taken = [snap("A", "Off"), vm("Running"), drive("C:\\s\\vm\\r_1.avhdx")]
    vhds = [vhd("C:\\s\\vm\\r_1.avhdx", "C:\\s\\vm\\r.vhdx", 7), vhd("C:\\s\\vm\\r.vhdx", None, 9)]

    for c, kind in [
        (CreateVMSnapshot(VMRef("vm"), SnapshotRef("A"), memory=True), "Standard"),
        (CreateVMSnapshot(VMRef("vm"), SnapshotRef("A"), quiesce=True), "ProductionOnly"),
        (CreateVMSnapshot(VMRef("vm"), SnapshotRef("A")), "Production"),
    ]:
        host = Host({"Get-VMSnapshot": [*taken, *vhds]})
        answer = host.drive(plan(c, Layout()))
        assert answer.memory is False and answer.volumes[0].chain_size == 7
        assert len(host.sent) == 1  # checks, type, checkpoint and read-back: one round trip
        statements = host.sent[0].statements
        # the name taken is checked exactly (case-sensitive, never a wildcard filter)
        assert [cm.name for cm in statements[0]] == ["Get-VMSnapshot", "Where-Object", "Select-Object", "Write-Error"]
        assert ("CEQ", SWITCH) in statements[0][1].params and ("Value", "A") in statements[0][1].params
        assert ("ErrorId", NAME_TAKEN) in statements[0][3].params
        # a memory checkpoint first checks the VM runs
        checks = 2 if c.memory else 1
        if c.memory:
            assert ("ErrorId", NOT_RUNNING) in statements[1][3].params
            assert ("NE", SWITCH) in statements[1][1].params and ("Value", "Running") in statements[1][1].params
        # the VM's type is set only if it differs: Get-VM | Where-Object -NE | Set-VM
        retype = statements[checks]
        assert [cm.name for cm in retype] == ["Get-VM", "Where-Object", "Set-VM"]
        assert ("CheckpointType", kind) in retype[2].params and ("Value", kind) in retype[1].params
        assert ("Passthru", SWITCH) in statements[checks + 1][0].params
    # the host's check failing ends the invocation; the id maps to InvalidState
    for error_id, text in [(NOT_RUNNING, "is not running"), (NAME_TAKEN, "already exists")]:
        error = classify(ErrorInfo(error_id, 8, "vm", None))
        failing = Host({"Get-VMSnapshot": error})
        with pytest.raises(InvalidState, match=text):
            failing.drive(plan(CreateVMSnapshot(VMRef("vm"), SnapshotRef("A"), memory=True), Layout()))


def test_delete_polls_until_the_merge_is_over_then_times_out() -> None:
    polls = iter([[vm(status=["MergingDisks"])], [vm(status=["Ok"])]])
    host = Host(
        {"Get-VMSnapshot": lambda inv: [snap("A")] if inv.readonly else next(polls), "Get-VM": lambda inv: next(polls)}
    )
    answer = host.drive(plan(DeleteVMSnapshot(VMRef("vm"), SnapshotRef("A")), Layout(merge_poll_seconds=1)))
    assert answer.power_state == PowerState.Running
    merging = [vm(status=["MergingDisks"])]
    forever = Host({"Get-VMSnapshot": lambda inv: [snap("A")] if inv.readonly else merging, "Get-VM": merging})
    with pytest.raises(OperationTimeout):
        forever.drive(
            plan(DeleteVMSnapshot(VMRef("vm"), SnapshotRef("A")), Layout(merge_poll_seconds=1, merge_timeout_seconds=3))
        )


def test_only_reads_are_marked_retryable() -> None:
    host = Host({"Get-VMSnapshot": lambda inv: [snap("A")] if inv.readonly else [vm()], "Get-VM": [vm()]})
    host.drive(plan(DeleteVMSnapshot(VMRef("vm"), SnapshotRef("A")), Layout()))
    for inv in host.sent:
        names = {c.name.split("-")[0] for st in inv.statements for c in st}
        assert inv.readonly == (names <= {"Get", "Test"}), inv


def test_volume_of_reads_the_hyperv_file_names() -> None:
    assert volume_of("C:\\s\\vm\\3f2a-11.vhdx") == "3f2a-11"
    assert volume_of("C:\\s\\vm\\3f2a-11_8C1F6A7E-0000-4000-8000-000000000001.avhdx") == "3f2a-11"


@pytest.mark.parametrize(
    ("fq", "category", "message", "kind"),
    [
        ("ObjectNotFound,Microsoft.HyperV.PowerShell.Commands.GetVM", 13, "no VM", ObjectNotFound),
        ("InvalidState,Microsoft.HyperV.PowerShell.Commands.StartVM", 7, "busy", InvalidState),
        ("OperationFailed,Microsoft.HyperV.PowerShell.Commands.CheckpointVM", 0, "VSS", OperationFailed),
        (
            "OperationFailed,Microsoft.HyperV.PowerShell.Commands.CheckpointVM",
            0,
            "full (0x80070070)",
            InsufficientSpace,
        ),
        ("OperationFailed,Microsoft.HyperV.PowerShell.Commands.CheckpointVM", 0, "(0x80070015)", StorageUnavailable),
        ("OperationTimeout,Microsoft.HyperV.PowerShell.Commands.ExportVM", 15, "slow", OperationTimeout),
        ("PathNotFound,Microsoft.PowerShell.Commands.RemoveItemCommand", 13, "gone", ObjectNotFound),
        ("CommandNotFoundException", 13, "no Hyper-V module", OperationFailed),
        ("Weird", 15, "timeout by category", OperationTimeout),
    ],
)
def test_classify_by_error_id_not_by_text(fq: str, category: int, message: str, kind: type[HostError]) -> None:
    error = classify(ErrorInfo(fq, category, message, None))
    assert type(error) is kind and fq in error.message


def test_a_known_checkpoint_is_one_round_trip_and_a_stale_id_is_looked_up() -> None:
    vhds = [vhd("C:\\s\\vm\\r_2.avhdx", "C:\\s\\vm\\r.vhdx", 5), vhd("C:\\s\\vm\\r.vhdx", None, 9)]
    after = [vm("Off"), drive("C:\\s\\vm\\r_2.avhdx"), *vhds]  # the reads, chains included
    known, old, new = Known(), uuid.uuid4(), uuid.uuid4()
    known.learn([snap("A", "Saved", old)])
    assert known.checkpoints == {("vm", "A"): (old, True)}

    host = Host({"Get-VMSnapshot": lambda inv: after, "Get-VHD": vhds})
    host.drive(plan(RevertToVMSnapshot(VMRef("vm"), SnapshotRef("A")), Layout(), known))
    assert len(host.sent) == 1  # no listing: straight to the Id
    assert ("Id", old) in host.sent[0].statements[0][0].params
    assert host.sent[0].statements[1][0].name == "Start-VM"  # the known memory flag resumes it

    # the Id is gone (A was deleted and taken again behind the driver's back): list, then act
    def replies(inv: Invocation) -> Any:
        if inv.readonly:
            return [snap("A", "Off", new)]
        if ("Id", old) in inv.statements[0][0].params:
            return ObjectNotFound(f"no such Id [ObjectNotFound,{HV}.Commands.GetVMSnapshotCommand]")
        return after

    host = Host({"Get-VMSnapshot": replies, "Get-VHD": vhds})
    host.drive(plan(DeleteVMSnapshot(VMRef("vm"), SnapshotRef("A")), Layout(), known))
    assert [("Id", old) in inv.statements[0][0].params for inv in host.sent] == [True, False, False]
    assert ("Id", new) in host.sent[2].statements[0][0].params
    assert known.checkpoints == {}  # deleted: forgotten

    # an ObjectNotFound from a later cmdlet is the answer, not a reason to retry
    known.learn([snap("B", "Off", old)])
    missing = ObjectNotFound(f"no folder [PathNotFound,{HV}.Commands.GetChildItemCommand]")
    host = Host({"Get-VMSnapshot": lambda inv: missing})
    with pytest.raises(ObjectNotFound, match="no folder"):
        host.drive(plan(DeleteVMSnapshot(VMRef("vm"), SnapshotRef("B")), Layout(), known))
    assert len(host.sent) == 1


def test_known_leaves_out_ambiguous_names_and_what_a_listing_no_longer_shows() -> None:
    known = Known()
    a, b = uuid.uuid4(), uuid.uuid4()
    known.learn([snap("A", sid=a), snap("B", sid=b)])
    known.learn([snap("A", sid=a), snap("A", sid=uuid.uuid4())])  # B gone, A twice
    assert known.checkpoints == {}
    known.learn([snap("C", sid=b)], listing=False)
    known.forget("vm")
    assert known.checkpoints == {}
