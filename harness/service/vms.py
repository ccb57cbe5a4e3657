"""VM lifecycle use cases and the VM-snapshot rules they must respect.

deploy / start / stop / destroy, change of service offering, and attach / detach of data
volumes. Stop is CloudStack-on-Hyper-V's stop: the VM is powered off and unregistered
(exported first under the ``on-stop`` strategy when it has snapshots); start imports it
back, or registers it afresh from its disk files.
"""

from __future__ import annotations

import uuid

from harness.domain.errors import CloudRuntimeError, InvalidParameterValue
from harness.domain.model import VM, Account, ServiceOffering, Volume, VolumeType
from harness.domain.states import ACTIVE_VM_SNAPSHOT_STATES, VMEvent, VMSnapshotType, VMState
from harness.drivers import DeployVM, DestroyVM, HostError, PowerOffVM, StartVM, VMAnswer
from harness.jobs.runners import Workflow
from harness.service import hostside, vmsnapshots
from harness.service.access import require
from harness.store.repository import existing
from harness.store.uow import UnitOfWork, UowFactory

GiB = 1 << 30
ROOT_SIZE = 20 * GiB
MAX_NAME = 255


def _offering(uow: UnitOfWork, key: str) -> ServiceOffering:
    found = uow.offerings.get_by_uuid(key) or uow.offerings.by_name(key)
    if found is None:
        raise InvalidParameterValue(f"Unable to find service offering: {key}")
    return found


# --------------------------------------------------------------------------- deploy


def check_deploy(uow_factory: UowFactory, caller: Account, name: str, offering: str, start: bool = True) -> VM:
    """Validate and record a new VM (Stopped, or Starting when it will start) and its ROOT volume."""
    if not name or len(name) > MAX_NAME:
        raise InvalidParameterValue(f"A virtual machine name must have 1 to {MAX_NAME} characters")
    with uow_factory() as uow:
        chosen = _offering(uow, offering)
        zone = uow.zones.all()[0]
        host = uow.hosts.in_zone(zone.id)[0]
        vm = uow.vms.add(
            VM(
                id=0,
                uuid=str(uuid.uuid4()),
                instance_name="pending",
                display_name=name,
                state=VMState.Stopped,
                account_id=caller.id,
                domain_id=caller.domain_id,
                service_offering_id=chosen.id,
                zone_id=zone.id,
                host_id=host.id,
            )
        )
        uow.vms.set_instance_name(vm, f"i-{caller.id}-{vm.id}-VM")
        uow.volumes.add(
            Volume(
                id=0,
                uuid=str(uuid.uuid4()),
                name=f"ROOT-{vm.id}",
                type=VolumeType.ROOT,
                size=ROOT_SIZE,
                account_id=caller.id,
                domain_id=caller.domain_id,
                vm_id=vm.id,
                device_id=0,
                path=None,
            )
        )
        if start:
            uow.vms.transit(vm, VMEvent.StartRequested)
        uow.commit()
    return vm


def deploy(uow_factory: UowFactory, vm_id: int) -> Workflow[VM]:
    with uow_factory(readonly=True) as uow:
        vm = existing(uow.vms.get(vm_id), "Instance", vm_id)
        offering = existing(uow.offerings.get(vm.service_offering_id), "service offering", vm.service_offering_id)
        disks = hostside.disks(uow, vm)
    starting = vm.state == VMState.Starting
    try:
        answer = yield DeployVM(hostside.ref(vm), offering.ram_size, offering.cpu, disks, start=starting)
    except HostError as err:
        _settle(uow_factory, vm.id, VMEvent.OperationFailed)
        raise CloudRuntimeError(f"Failed to deploy Instance {vm.display_name}: {err}") from err
    assert isinstance(answer, VMAnswer)
    with uow_factory() as uow:
        hostside.record_volumes(uow, answer.volumes)
        uow.commit()
    return _settle(uow_factory, vm.id, VMEvent.OperationSucceeded)


def abandon(uow_factory: UowFactory, vm_id: int) -> None:
    """A start or stop whose job was refused before it ran: back to where it began."""
    _settle(uow_factory, vm_id, VMEvent.OperationFailed)


def _settle(uow_factory: UowFactory, vm_id: int, event: VMEvent) -> VM:
    """Finish a Starting/Stopping VM with ``event``; a stable VM is left as it is."""
    with uow_factory() as uow:
        vm = existing(uow.vms.get(vm_id), "Instance", vm_id)
        if vm.state in (VMState.Starting, VMState.Stopping):
            uow.vms.transit(vm, event)
        uow.commit()
    return vm


# --------------------------------------------------------------------------- start / stop


def _begin(uow_factory: UowFactory, caller: Account, vm_uuid: str, required: VMState, event: VMEvent, verb: str) -> VM:
    """The synchronous half of start and stop: the VM in ``required`` state, moved by ``event``."""
    with uow_factory() as uow:
        vm = require(uow.vms.get_by_uuid(vm_uuid), "Instance", vm_uuid, uow, caller)
        vm = existing(uow.vms.lock(vm.id), "Instance", vm_uuid)  # one operation per VM, across managers
        if vm.state != required:
            raise InvalidParameterValue(f"Instance {vm_uuid} is in state {vm.state}; only a {required} one can {verb}")
        if any(s.state in ACTIVE_VM_SNAPSHOT_STATES for s in uow.vm_snapshots.briefs_of_vm(vm.id)):
            raise InvalidParameterValue(
                f"Unable to {verb} Instance {vm_uuid}: there is other active Instance Snapshot tasks on the instance, "
                "please try again later"
            )
        uow.vms.transit(vm, event)
        uow.commit()
    return vm


def check_start(uow_factory: UowFactory, caller: Account, vm_uuid: str) -> VM:
    return _begin(uow_factory, caller, vm_uuid, VMState.Stopped, VMEvent.StartRequested, "start")


def start(uow_factory: UowFactory, vm_id: int) -> Workflow[VM]:
    """Import (or register) the VM, then start it."""
    try:
        yield from hostside.register(uow_factory, vm_id)
        with uow_factory(readonly=True) as uow:
            vm = existing(uow.vms.get(vm_id), "Instance", vm_id)
        yield StartVM(hostside.ref(vm))
    except HostError as err:
        _settle(uow_factory, vm_id, VMEvent.OperationFailed)
        raise CloudRuntimeError(f"Failed to start Instance: {err}") from err
    return _settle(uow_factory, vm_id, VMEvent.OperationSucceeded)


def check_stop(uow_factory: UowFactory, caller: Account, vm_uuid: str) -> VM:
    return _begin(uow_factory, caller, vm_uuid, VMState.Running, VMEvent.StopRequested, "stop")


def stop(uow_factory: UowFactory, vm_id: int) -> Workflow[VM]:
    """Power off and unregister; under ``on-stop`` export first (a running VM can be
    exported, so a failed export leaves the VM running and nothing lost)."""
    with uow_factory(readonly=True) as uow:
        vm = existing(uow.vms.get(vm_id), "Instance", vm_id)
    try:
        yield from hostside.export_if(uow_factory, vm_id, hostside.ExportStrategy.on_stop)
        yield PowerOffVM(hostside.ref(vm))
    except HostError as err:
        _settle(uow_factory, vm_id, VMEvent.OperationFailed)
        raise CloudRuntimeError(f"Failed to stop Instance {vm.display_name}: {err}") from err
    try:
        yield from hostside.release(uow_factory, vm_id)
    except HostError as err:
        raise CloudRuntimeError(f"Instance {vm.display_name} is off but could not be unregistered: {err}") from err
    finally:
        _settle(uow_factory, vm_id, VMEvent.OperationSucceeded)
    return _settle(uow_factory, vm_id, VMEvent.OperationSucceeded)


# --------------------------------------------------------------------------- destroy


def check_destroy(uow_factory: UowFactory, caller: Account, vm_uuid: str) -> VM:
    with uow_factory(readonly=True) as uow:
        vm = require(uow.vms.get_by_uuid(vm_uuid), "Instance", vm_uuid, uow, caller)
        if vm.state not in (VMState.Running, VMState.Stopped, VMState.Error):
            raise InvalidParameterValue(f"Instance {vm_uuid} is in state {vm.state} and cannot be destroyed now")
    vmsnapshots.check_delete_all(uow_factory, caller, vm_uuid)
    return vm


def destroy(uow_factory: UowFactory, vm_id: int, expunge: bool = False) -> Workflow[VM]:
    """Delete every VM snapshot (CloudStack does so before destroying), then the VM."""
    yield from vmsnapshots.delete_all(uow_factory, vm_id)
    with uow_factory() as uow:
        vm = existing(uow.vms.get(vm_id), "Instance", vm_id)
        if vm.state == VMState.Running:
            uow.vms.transit(vm, VMEvent.StopRequested)
            uow.commit()
    try:
        yield DestroyVM(hostside.ref(vm))
    except HostError as err:
        _settle(uow_factory, vm_id, VMEvent.OperationFailed)
        raise CloudRuntimeError(f"Failed to destroy Instance {vm.display_name}: {err}") from err
    with uow_factory() as uow:
        vm = existing(uow.vms.get(vm_id), "Instance", vm_id)
        if vm.state == VMState.Stopping:
            uow.vms.transit(vm, VMEvent.OperationSucceeded)
        uow.vms.transit(vm, VMEvent.DestroyRequested)
        uow.vms.set_exported(vm, False)
        for volume in uow.volumes.of_vm(vm_id):
            uow.volumes.soft_delete(volume.id)
        if expunge:
            uow.vms.transit(vm, VMEvent.ExpungeOperation)
            uow.vms.soft_delete(vm_id)
        uow.commit()
    return vm


# --------------------------------------------------------------------------- offering


def check_change_offering(uow_factory: UowFactory, caller: Account, vm_uuid: str, offering: str) -> int:
    with uow_factory(readonly=True) as uow:
        vm = require(uow.vms.get_by_uuid(vm_uuid), "Instance", vm_uuid, uow, caller)
        chosen = _offering(uow, offering)
        if vm.state != VMState.Stopped:
            raise InvalidParameterValue(f"Unable to change the service offering of Instance {vm_uuid}: stop it first")
        if chosen.id == vm.service_offering_id:
            raise InvalidParameterValue(f"Instance {vm_uuid} already has service offering {chosen.name}")
    vmsnapshots.check_delete_all(uow_factory, caller, vm_uuid)
    return chosen.id


def change_offering(uow_factory: UowFactory, vm_id: int, offering_id: int) -> Workflow[VM]:
    """Change the offering; the VM's memory snapshots are discarded (spec), disk ones kept."""
    with uow_factory(readonly=True) as uow:
        vm = existing(uow.vms.get(vm_id), "Instance", vm_id)
        memory = [s for s in uow.vm_snapshots.by_vm(vm_id) if s.type == VMSnapshotType.DiskAndMemory]
    for snap in memory:
        yield from vmsnapshots.delete(uow_factory, snap.id)
    with uow_factory() as uow:
        uow.vms.set_offering(vm, offering_id)
        uow.commit()
    return vm
