"""What a timed host executes, and the typed way a SimPy process waits for its answer.

A :class:`~simulator.timed.TimedHost` takes the contract's commands
(:class:`~harness.drivers.Command`) and a few operations of its own that no manager sends:
the cmdlets the emulated host (:mod:`simulator.psrp_endpoint`) runs alone, which a real host
also runs but which are not a step of any manager workflow. Those are
:class:`HostOperation` s, deliberately not contract commands, so no driver of the contract
is ever asked to take one and the contract's typing (``Command[A]`` answers an ``A``) stays
whole.

``execute`` of a timed host (a :class:`~simulator.timed.TimedHost`, a
:class:`~simulator.fleet.Fleet`, a :class:`~simulator.cluster.Cluster`) returns a SimPy
event, whose value SimPy does not type. :func:`ask` is the typed wait: inside a SimPy
process, ``inventory = yield from ask(host, GetInventory(VMRef("*")))`` is an
:class:`~harness.drivers.Inventory` to mypy, with no ``isinstance`` on the answer, and the
process waits on exactly the event a bare ``yield host.execute(...)`` would.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, Protocol

import simpy

from harness.drivers import (
    A,
    Command,
    CreateVMSnapshot,
    DeleteVMSnapshot,
    ExportVM,
    ImportVM,
    PowerOffVM,
    RevertToVMSnapshot,
    SaveVM,
    SnapshotRef,
    StartVM,
    VMRef,
)


@dataclass(frozen=True, slots=True)
class HostOperation:
    """An operation of the simulated host that no manager sends, timed like the contract's
    commands. ``vm`` is the VM it acts on. Not a :class:`~harness.drivers.Command`."""

    vm: VMRef


@dataclass(frozen=True, slots=True)
class RestoreCheckpoint(HostOperation):
    """Hyper-V's ``Restore-VMSnapshot`` alone: the VM takes the checkpoint's state (Saved
    for a memory checkpoint) and is not resumed; :class:`~harness.drivers.RevertToVMSnapshot`
    is this plus the resume. Errors: ``ObjectNotFound`` for a missing checkpoint."""

    snapshot: SnapshotRef


@dataclass(frozen=True, slots=True)
class CopyImportVM(HostOperation):
    """Hyper-V's ``Import-VM -Copy`` (the Restore import type): every file of the export
    copied back into the VM's folder, so that its cost is the copy's (the contract's
    :class:`~harness.drivers.ImportVM` registers in place). The VM comes back Off."""


#: What a timed host executes: the contract's commands and its own operations.
Operation = Command[Any] | HostOperation

#: The operational status Hyper-V shows for a VM while each operation runs ("Busy" otherwise).
STATUS: dict[type[Operation], str] = {
    CreateVMSnapshot: "CreatingSnapshot",
    RevertToVMSnapshot: "ApplyingSnapshot",
    RestoreCheckpoint: "ApplyingSnapshot",
    DeleteVMSnapshot: "DeletingSnapshot",
    ExportVM: "ExportingVirtualMachine",
    ImportVM: "ImportingVirtualMachine",
    CopyImportVM: "ImportingVirtualMachine",
    StartVM: "Starting",
    PowerOffVM: "Stopping",
    SaveVM: "Saving",
}


class TimedDriver(Protocol):
    """A host in simulated time: ``execute`` returns an event whose value is the answer of
    ``command`` (or which fails with its :class:`~harness.drivers.HostError`)."""

    def execute(self, command: Command[Any]) -> simpy.Event: ...


def ask(host: TimedDriver, command: Command[A]) -> Generator[simpy.Event, Any, A]:
    """Inside a SimPy process: have ``host`` carry out ``command``, wait for it, and return
    its answer, typed as the command's answer class. Host errors are raised here."""
    answer: A = yield host.execute(command)
    return answer
