"""The event log: CloudStack's event types for the actions hvsnap runs as async jobs.

An async command leaves three events, as CloudStack's ActionEvents do: ``Scheduled`` when it
is accepted, ``Started`` when its job begins and ``Completed`` when it ends (level ``INFO``,
or ``ERROR`` with "Error while ..." when it failed). Each names the acting account and the
resource (the job's instance). listEvents shows them in the caller's listing scope.

One event has no command behind it: ``VMSNAPSHOT.LOST`` (level ``ERROR``), written on the
snapshot owner's account when its checkpoint is found gone from the host.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from harness.domain.errors import InvalidParameterValue
from harness.domain.model import Account, Event, Page, VMSnapshot
from harness.service import views
from harness.service.access import listing_scope
from harness.store.ports import UnitOfWork, UowFactory

T = TypeVar("T")

#: command -> (event type, what it does, as the description says it)
EVENT_TYPES: dict[str, tuple[str, str]] = {
    "createVMSnapshot": ("VMSNAPSHOT.CREATE", "creating snapshot for VM"),
    "deleteVMSnapshot": ("VMSNAPSHOT.DELETE", "Deleting Instance Snapshot of VM"),
    "deleteVMSnapshots": ("VMSNAPSHOT.DELETE", "Deleting every Instance Snapshot of VM"),
    "revertToVMSnapshot": ("VMSNAPSHOT.REVERTTO", "Reverting from Instance Snapshot of VM"),
    "deployVirtualMachine": ("VM.CREATE", "Deploying Instance"),
    "startVirtualMachine": ("VM.START", "Starting User Instance with ID"),
    "stopVirtualMachine": ("VM.STOP", "Stopping User Instance with ID"),
    "rebootVirtualMachine": ("VM.REBOOT", "rebooting user vm"),
    "destroyVirtualMachine": ("VM.DESTROY", "Destroying Instance with ID"),
    "expungeVirtualMachine": ("VM.EXPUNGE", "Expunging Instance with ID"),
    "changeServiceForVirtualMachine": ("VM.UPGRADE", "Upgrading Instance with ID"),
    "resetSSHKeyForVirtualMachine": ("VM.RESETSSHKEY", "resetting SSHKey for vm"),
    "resetPasswordForVirtualMachine": ("VM.RESETPASSWORD", "Resetting password for Instance with ID"),
    "createVolume": ("VOLUME.CREATE", "Creating volume"),
    "attachVolume": ("VOLUME.ATTACH", "Attaching volume to Instance"),
    "detachVolume": ("VOLUME.DETACH", "Detaching volume from Instance"),
    "createSnapshot": ("SNAPSHOT.CREATE", "creating snapshot for volume"),
    "deleteAccount": ("ACCOUNT.DELETE", "Deleting user Account and all corresponding users"),
    "createTags": ("CREATE_TAGS", "Creating resource tag(s) on"),
    "deleteTags": ("DELETE_TAGS", "Deleting tags of"),
}
LEVELS = ("INFO", "WARN", "ERROR")


#: the event a snapshot leaves when sync or a stop finds its checkpoint gone from the host
#: (hvsnap's own type: CloudStack's sync never looks for vanished checkpoints)
LOST = "VMSNAPSHOT.LOST"


def add(
    uow: UnitOfWork,
    owner: tuple[int, int],
    entry: tuple[str, str, str, str],
    *,
    instance: tuple[str, int] | None = None,
    start: Event | None = None,
    resource_uuid: str | None = None,
) -> Event:
    """Add one event in the caller's unit of work (it commits): ``owner`` is the account and
    domain ids, ``entry`` the type, state, level and description; ``instance`` the resource
    (type, id) and ``start`` its Scheduled event, whose resource uuid the later events repeat
    (the resource may be gone by then), when it has them; ``resource_uuid``: the
    resource's uuid, when the caller knows it (else it is looked up)."""
    account_id, domain_id = owner
    type_, state, level, description = entry
    if start is not None:
        resource_uuid = start.resource_uuid
    elif resource_uuid is None and instance:
        resource_uuid = views.instance_uuid(uow, *instance)
    return uow.events.add(
        Event(
            0,
            str(uuid.uuid4()),
            type_,
            state,
            level,
            description,
            account_id,
            domain_id,
            resource_type=instance[0] if instance else None,
            resource_id=instance[1] if instance else None,
            start_id=start.id if start is not None else None,
            resource_uuid=resource_uuid,
        )
    )


def lost(uow: UnitOfWork, snap: VMSnapshot, reason: str) -> None:
    """Record that ``snap``'s checkpoint is gone from the host, on its owner's account."""
    text = f"Instance Snapshot {snap.display_name} lost: {reason}"
    add(uow, (snap.account_id, snap.domain_id), (LOST, "Completed", "ERROR", text), instance=("VmSnapshot", snap.id))


def _record(
    uow_factory: UowFactory,
    caller: Account,
    type_: str,
    state: str,
    level: str,
    description: str,
    instance: tuple[str, int] | None,
    start: Event | None = None,
    resource_uuid: str | None = None,
) -> Event:
    """Write one event; ``start``: the command's ``Scheduled`` event, whose resource uuid
    the later ones repeat (the resource may be gone by then)."""
    with uow_factory() as uow:
        entry = (type_, state, level, description)
        owner = (caller.id, caller.domain_id)
        event = add(uow, owner, entry, instance=instance, start=start, resource_uuid=resource_uuid)
        uow.commit()
    return event


def around(
    uow_factory: UowFactory,
    caller: Account,
    cmd: str,
    subject: str,
    instance: tuple[str, int] | None,
    work: Callable[[], T],
    instance_uuid: str | None = None,
) -> Callable[[], T]:
    """Record ``Scheduled`` now, and return ``work`` wrapped to record ``Started`` and
    ``Completed`` (commands without an event type are returned as they are).
    ``instance_uuid``: the resource's uuid, when the caller has it at hand."""
    known = EVENT_TYPES.get(cmd)
    if known is None:
        return work
    type_, doing = known
    text = f"{doing}: {subject}" if subject else doing
    start = _record(uow_factory, caller, type_, "Scheduled", "INFO", text, instance, resource_uuid=instance_uuid)

    def run() -> T:
        _record(uow_factory, caller, type_, "Started", "INFO", f"Starting job for {text}", instance, start)
        try:
            result = work()
        except Exception:
            _record(uow_factory, caller, type_, "Completed", "ERROR", f"Error while {text}", instance, start)
            raise
        _record(uow_factory, caller, type_, "Completed", "INFO", f"Successfully completed {text}", instance, start)
        return result

    return run


def search(uow_factory: UowFactory, caller: Account, **filters: Any) -> Page:
    """listEvents: newest first, in the caller's listing scope."""
    scope_args = {k: filters.pop(k) for k in ("listall", "domain_uuid", "isrecursive", "account_name") if k in filters}
    level = filters.get("level")
    if level is not None and level not in LEVELS:
        raise InvalidParameterValue(f"level must be one of {', '.join(LEVELS)}")
    with uow_factory(readonly=True) as uow:
        return uow.events.search(listing_scope(uow, caller, **scope_args), **filters)
