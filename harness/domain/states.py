"""Guarded state machines, exactly as CloudStack declares them.

Every entity with a lifecycle (VM snapshot, VM, volume snapshot) has a ``StateMachine``:
a table of ``(state, event) -> state``. :meth:`StateMachine.next_state` is the only place
that decides whether a transition is legal; an illegal one raises :class:`InvalidTransition`
naming the action, the current state and the states the action is allowed from.

Persisting a transition (the compare-and-swap on ``(state, update_count)``) is the store's
job: ``harness.store.repository.transit``. Nothing else writes a ``state`` column.

Sources: reference/cloudstack.md §1.1-1.2 (``VMSnapshot.State.s_fsm``), §1.5 (VM states),
CloudStack's ``Snapshot.State`` for volume snapshots.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from harness.domain.errors import InvalidParameterValue


class VMSnapshotState(StrEnum):
    Allocated = "Allocated"
    Creating = "Creating"
    Ready = "Ready"
    Reverting = "Reverting"
    Expunging = "Expunging"
    Removed = "Removed"
    Error = "Error"


class VMSnapshotEvent(StrEnum):
    CreateRequested = "CreateRequested"
    OperationFailed = "OperationFailed"
    OperationSucceeded = "OperationSucceeded"
    RevertRequested = "RevertRequested"
    ExpungeRequested = "ExpungeRequested"
    #: the host no longer has the checkpoint (not in CloudStack's table: its sync never looks)
    Lost = "Lost"


class VMSnapshotType(StrEnum):
    Disk = "Disk"
    DiskAndMemory = "DiskAndMemory"


class VMState(StrEnum):
    Stopped = "Stopped"
    Starting = "Starting"
    Running = "Running"
    Stopping = "Stopping"
    Destroyed = "Destroyed"
    Expunging = "Expunging"
    Error = "Error"


class VMEvent(StrEnum):
    StartRequested = "StartRequested"
    StopRequested = "StopRequested"
    OperationSucceeded = "OperationSucceeded"
    OperationFailed = "OperationFailed"
    DestroyRequested = "DestroyRequested"
    ExpungeOperation = "ExpungeOperation"
    FollowAgentPowerOffReport = "FollowAgentPowerOffReport"
    FollowAgentPowerOnReport = "FollowAgentPowerOnReport"


class VolumeSnapshotState(StrEnum):
    Allocated = "Allocated"
    Creating = "Creating"
    CreatedOnPrimary = "CreatedOnPrimary"
    BackingUp = "BackingUp"
    BackedUp = "BackedUp"
    Destroying = "Destroying"
    Destroyed = "Destroyed"
    Error = "Error"


class VolumeSnapshotEvent(StrEnum):
    CreateRequested = "CreateRequested"
    OperationSucceeded = "OperationSucceeded"
    OperationFailed = "OperationFailed"
    BackupToSecondary = "BackupToSecondary"
    DestroyRequested = "DestroyRequested"


S = TypeVar("S", bound=StrEnum)
E = TypeVar("E", bound=StrEnum)


class InvalidTransition(InvalidParameterValue):
    """An event that the entity's current state does not accept: 431 when it reaches a
    caller (the state forbids the action, typically because a concurrent request moved it).

    Attributes:
        action: what was attempted (the event name, e.g. ``RevertRequested``).
        current_state: the state the entity is in.
        allowed_states: the states from which ``action`` is legal.
    """

    def __init__(self, entity: str, action: str, current_state: str, allowed_states: list[str]) -> None:
        self.entity = entity
        self.action = action
        self.current_state = current_state
        self.allowed_states = allowed_states
        allowed = ", ".join(allowed_states) or "no state"
        super().__init__(f"cannot {action} a {entity} in state {current_state}; allowed from: {allowed}")


@dataclass(frozen=True)
class StateMachine(Generic[S, E]):
    """A transition table. ``entity`` names the kind of object in error messages."""

    entity: str
    table: dict[tuple[S, E], S]

    def next_state(self, state: S, event: E) -> S:
        """The state ``event`` leads to from ``state``; raises :class:`InvalidTransition`."""
        try:
            return self.table[(state, event)]
        except KeyError:
            allowed = sorted({str(s) for (s, e) in self.table if e == event})
            raise InvalidTransition(self.entity, str(event), str(state), allowed) from None


_VS, _VE = VMSnapshotState, VMSnapshotEvent
VM_SNAPSHOT_FSM: StateMachine[VMSnapshotState, VMSnapshotEvent] = StateMachine(
    "VM snapshot",
    {
        (_VS.Allocated, _VE.CreateRequested): _VS.Creating,
        (_VS.Creating, _VE.OperationSucceeded): _VS.Ready,
        (_VS.Creating, _VE.OperationFailed): _VS.Error,
        (_VS.Ready, _VE.RevertRequested): _VS.Reverting,
        (_VS.Reverting, _VE.OperationSucceeded): _VS.Ready,
        # A failed revert does not damage the snapshot: back to Ready (cloudstack.md §1.2).
        (_VS.Reverting, _VE.OperationFailed): _VS.Ready,
        (_VS.Ready, _VE.ExpungeRequested): _VS.Expunging,
        (_VS.Error, _VE.ExpungeRequested): _VS.Expunging,
        (_VS.Expunging, _VE.ExpungeRequested): _VS.Expunging,
        (_VS.Expunging, _VE.OperationSucceeded): _VS.Removed,
        (_VS.Expunging, _VE.OperationFailed): _VS.Error,
        # The checkpoint is gone from the host (a stop without an export, a vanished export,
        # a checkpoint sync no longer finds): the snapshot can never be reverted to again.
        (_VS.Ready, _VE.Lost): _VS.Error,
        (_VS.Expunging, _VE.Lost): _VS.Error,
    },
)

_MS, _ME = VMState, VMEvent
VM_FSM: StateMachine[VMState, VMEvent] = StateMachine(
    "VM",
    {
        (_MS.Stopped, _ME.StartRequested): _MS.Starting,
        (_MS.Starting, _ME.OperationSucceeded): _MS.Running,
        (_MS.Starting, _ME.OperationFailed): _MS.Stopped,
        (_MS.Running, _ME.StopRequested): _MS.Stopping,
        (_MS.Stopping, _ME.OperationSucceeded): _MS.Stopped,
        (_MS.Stopping, _ME.OperationFailed): _MS.Running,
        (_MS.Running, _ME.FollowAgentPowerOffReport): _MS.Stopped,
        # the host runs a VM the database calls stopped (a deploy or start whose answer was lost)
        (_MS.Stopped, _ME.FollowAgentPowerOnReport): _MS.Running,
        (_MS.Stopped, _ME.DestroyRequested): _MS.Destroyed,
        (_MS.Error, _ME.DestroyRequested): _MS.Destroyed,
        (_MS.Destroyed, _ME.ExpungeOperation): _MS.Expunging,
    },
)

_SS, _SE = VolumeSnapshotState, VolumeSnapshotEvent
VOLUME_SNAPSHOT_FSM: StateMachine[VolumeSnapshotState, VolumeSnapshotEvent] = StateMachine(
    "volume snapshot",
    {
        (_SS.Allocated, _SE.CreateRequested): _SS.Creating,
        (_SS.Creating, _SE.OperationSucceeded): _SS.CreatedOnPrimary,
        (_SS.Creating, _SE.OperationFailed): _SS.Error,
        (_SS.CreatedOnPrimary, _SE.BackupToSecondary): _SS.BackingUp,
        (_SS.BackingUp, _SE.OperationSucceeded): _SS.BackedUp,
        (_SS.BackingUp, _SE.OperationFailed): _SS.Error,
        (_SS.BackedUp, _SE.DestroyRequested): _SS.Destroying,
        (_SS.Error, _SE.DestroyRequested): _SS.Destroying,
        (_SS.Destroying, _SE.OperationSucceeded): _SS.Destroyed,
    },
)

#: VM snapshot states that block any other VM-snapshot operation on the VM (cloudstack.md §9).
ACTIVE_VM_SNAPSHOT_STATES = frozenset({_VS.Allocated, _VS.Creating, _VS.Reverting, _VS.Expunging})
#: States a VM snapshot may be deleted from through the API.
DELETABLE_VM_SNAPSHOT_STATES = frozenset({_VS.Ready, _VS.Error, _VS.Expunging})
#: Volume snapshot states that block VM snapshot operations (cloudstack.md §2.1 rule 13).
ACTIVE_VOLUME_SNAPSHOT_STATES = frozenset({_SS.Creating, _SS.CreatedOnPrimary, _SS.BackingUp})
#: VM snapshot states listed when the caller gives no ``state`` filter.
LISTED_VM_SNAPSHOT_STATES = frozenset({_VS.Ready, _VS.Creating, _VS.Allocated, _VS.Error, _VS.Expunging, _VS.Reverting})
