"""What a request acts on, found before its job is queued: the VM whose serial queue a
job joins, the Instance a volume is attached to, the guest a simulated host reads and
writes, and the account an admin deploys for.

Every mutating job runs on the queue of the VM it changes (its uuid is the queue key), so
two jobs on one VM never overlap, on one manager or across managers.
"""

from __future__ import annotations

from harness.domain.errors import InvalidParameterValue
from harness.domain.model import VM, Account, VolumeSnapshot
from harness.domain.states import VMState
from harness.service import accounts
from harness.service.access import listing_scope_owner, require
from harness.store.repository import existing
from harness.store.uow import UowFactory


def vm_key(uow_factory: UowFactory, vm_id: int) -> str:
    """The queue key of the VM with database id ``vm_id``."""
    with uow_factory(readonly=True) as uow:
        return existing(uow.vms.get(vm_id), "Instance", vm_id).uuid


def visible_vm(uow_factory: UowFactory, caller: Account, vm_uuid: str) -> VM:
    """The Instance ``vm_uuid`` (431 if there is none, 531 if the caller may not see it)."""
    with uow_factory(readonly=True) as uow:
        return require(uow.vms.get_by_uuid(vm_uuid), "Instance", vm_uuid, uow, caller)


def attached_vm(uow_factory: UowFactory, caller: Account, volume_uuid: str) -> VM:
    """detachVolume by volume id: the Instance the volume is attached to."""
    with uow_factory(readonly=True) as uow:
        vol = require(uow.volumes.get_by_uuid(volume_uuid), "volume", volume_uuid, uow, caller)
        vm = uow.vms.get(vol.vm_id) if vol.vm_id is not None else None
    if vm is None:
        raise InvalidParameterValue(f"Volume {volume_uuid} is not attached to an Instance")
    return vm


def volume_snapshot_key(uow_factory: UowFactory, snap: VolumeSnapshot, volume_uuid: str) -> str:
    """A volume snapshot's queue: its volume's VM, or the volume itself when detached."""
    with uow_factory(readonly=True) as uow:
        vol = uow.volumes.get(snap.volume_id)
        vm = uow.vms.get(vol.vm_id) if vol and vol.vm_id else None
    return vm.uuid if vm else volume_uuid


def guest_vm(uow_factory: UowFactory, caller: Account, vm_uuid: str, guest_data: bool) -> VM:
    """The Running Instance whose guest data is read or written (simulated hosts only:
    ``guest_data`` is the driver's capability)."""
    if not guest_data:
        raise InvalidParameterValue("Guest data is available on simulated hosts only")
    vm = visible_vm(uow_factory, caller, vm_uuid)
    if vm.state != VMState.Running:
        raise InvalidParameterValue(
            f"Instance {vm_uuid} is in state {vm.state}; guest data is read and written on a Running Instance"
        )
    return vm


def deploy_owner(
    uow_factory: UowFactory,
    caller: Account,
    zone_uuid: str | None,
    template_uuid: str | None,
    account_name: str | None,
    domain_uuid: str | None,
) -> Account:
    """deployVirtualMachine's zone and template checked, and whose VM it is: the caller's,
    or ``account`` (in ``domainid``) when an admin deploys on its behalf."""
    accounts.check_placement(uow_factory, zone_uuid, template_uuid)
    if account_name is None:
        return caller
    with uow_factory(readonly=True) as uow:
        return listing_scope_owner(uow, caller, account_name, domain_uuid)
