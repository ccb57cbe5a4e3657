"""VM lifecycle use cases and the VM-snapshot rules they must respect.

deploy / start / stop / destroy, change of service offering, and attach / detach of data
volumes. Stop is CloudStack-on-Hyper-V's stop: the VM is powered off and unregistered
(exported first under the ``on-stop`` strategy when it has snapshots); start imports it
back, or registers it afresh from its disk files.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from harness.domain.errors import CloudRuntimeError, InvalidParameterValue
from harness.domain.model import VM, Account, ServiceOffering, Volume, VolumeType
from harness.domain.states import ACTIVE_VM_SNAPSHOT_STATES, VMEvent, VMSnapshotType, VMState
from harness.drivers import DeployVM, DestroyVM, HostError, PowerOffVM, StartVM
from harness.jobs.runners import Workflow, ask
from harness.service import accounts, catalogue, hostside, keypairs, nics, passwords, vmsnapshots
from harness.service.access import require
from harness.store.ports import Scope, UnitOfWork, UowFactory, existing

GiB = 1 << 30
ROOT_SIZE = 20 * GiB
MAX_NAME = 255


def _offering(uow: UnitOfWork, key: str) -> ServiceOffering:
    found = uow.offerings.get_by_uuid(key) or uow.offerings.by_name(key)
    if found is None:
        raise InvalidParameterValue(f"Unable to find service offering: {key}")
    return found


# --------------------------------------------------------------------------- deploy


def check_deploy(
    uow_factory: UowFactory,
    caller: Account,
    name: str,
    offering: str,
    start: bool = True,
    template_uuid: str | None = None,
    keypair: str | None = None,
) -> VM:
    """Validate and record a new VM (Stopped, or Starting when it will start) and its ROOT
    volume; with ``keypair``, the caller's key pair of that name in the VM's details."""
    if not name or len(name) > MAX_NAME:
        raise InvalidParameterValue(f"A virtual machine name must have 1 to {MAX_NAME} characters")
    with uow_factory() as uow:
        chosen = _offering(uow, offering)
        details = keypairs.for_vm(uow, caller, [keypair]) if keypair is not None else {}
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
                template_uuid=template_uuid,
            )
        )
        uow.vms.set_instance_name(vm, f"i-{caller.id}-{vm.id}-VM")
        nics.allocate(uow, vm)
        if details:
            uow.vm_details.set(vm.id, details)
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


def deploy(uow_factory: UowFactory, vm_id: int, password: str | None = None) -> Workflow[VM]:
    """Create the VM on the host; ``password`` is the guest's root password (a
    ``passwordenabled`` template's, generated at deploy), None for the template's own."""
    with uow_factory(readonly=True) as uow:
        vm = existing(uow.vms.get(vm_id), "Instance", vm_id)
        offering = existing(uow.offerings.get(vm.service_offering_id), "service offering", vm.service_offering_id)
        disks = hostside.disks(uow, vm)
        address = nics.default_address(uow, vm.id)
        keys = keypairs.authorized_keys(uow, vm.id)
    starting = vm.state == VMState.Starting
    try:
        answer = yield from ask(
            DeployVM(
                hostside.ref(vm),
                offering.ram_size,
                offering.cpu,
                disks,
                start=starting,
                ip_address=address,
                authorized_keys=keys,
                password=password,
            )
        )
    except HostError as err:
        _settle(uow_factory, vm.id, VMEvent.OperationFailed)
        raise CloudRuntimeError(f"Failed to deploy Instance {vm.display_name}: {err}") from err
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


def reset_ssh_key(uow_factory: UowFactory, caller: Account, vm_uuid: str, names: Sequence[str]) -> VM:
    """resetSSHKeyForVirtualMachine: the Stopped VM's key pairs become the owner's ``names``;
    its next start hands them to the host (the guest takes no others)."""
    if not names:
        raise InvalidParameterValue("Please specify at least one key pair (keypair or keypairs)")
    with uow_factory() as uow:
        vm = require(uow.vms.get_by_uuid(vm_uuid), "Instance", vm_uuid, uow, caller)
        vm = existing(uow.vms.lock(vm.id), "Instance", vm_uuid)
        if vm.state != VMState.Stopped:
            raise InvalidParameterValue(f"Instance {vm_uuid} should be stopped to do SSH Key reset")
        owner = existing(uow.accounts.get(vm.account_id), "account", vm.account_id)
        uow.vm_details.set(vm.id, keypairs.for_vm(uow, owner, names))
        uow.commit()
    return vm


def reset_password(uow_factory: UowFactory, caller: Account, vm_uuid: str, password: str | None) -> tuple[VM, str]:
    """resetPasswordForVirtualMachine: a Stopped VM of a ``passwordenabled`` template gets
    ``password`` (a fresh one when blank) at its next start; returns it with the VM."""
    with uow_factory() as uow:
        vm = require(uow.vms.get_by_uuid(vm_uuid), "Instance", vm_uuid, uow, caller)
        vm = existing(uow.vms.lock(vm.id), "Instance", vm_uuid)
        template = catalogue.template_by_uuid(vm.template_uuid)
        if template is None or not template.password_enabled:
            raise InvalidParameterValue(
                "Fail to reset password for the virtual machine, the template is not password enabled"
            )
        if vm.state != VMState.Stopped:
            raise InvalidParameterValue(f"Instance {vm_uuid} should be stopped to do password reset")
        chosen = password if password and password.strip() else passwords.random_password()
        uow.vm_details.set(vm.id, {keypairs.PENDING_PASSWORD: chosen})
        uow.commit()
    return vm, chosen


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


def stop(uow_factory: UowFactory, vm_id: int, export_first: bool = True) -> Workflow[VM]:
    """Power off and unregister; under ``on-stop`` export first (a running VM can be
    exported, so a failed export leaves the VM running and nothing lost). Not
    ``export_first`` (a host that defers merges until the power-off): the export follows
    the power-off, so it copies the merged chain rather than the files about to merge."""
    with uow_factory(readonly=True) as uow:
        vm = existing(uow.vms.get(vm_id), "Instance", vm_id)
    try:
        if export_first:
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


def check_destroy(uow_factory: UowFactory, caller: Account, vm_uuid: str, expunge: bool = False) -> VM:
    """``expunge`` of a Destroyed VM is accepted: only the expunge is left to do (``expunge``)."""
    with uow_factory(readonly=True) as uow:
        vm = require(uow.vms.get_by_uuid(vm_uuid), "Instance", vm_uuid, uow, caller)
        if expunge and vm.state == VMState.Destroyed:
            return vm
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
            _expunge(uow, vm)
        uow.commit()
    return vm


def _expunge(uow: UnitOfWork, vm: VM) -> None:
    """Destroyed -> Expunging, removed; its addresses go back to the range, its tags go."""
    uow.vms.transit(vm, VMEvent.ExpungeOperation)
    uow.vms.soft_delete(vm.id)
    nics.release(uow, vm.id)
    uow.tags.remove(t.id for t in uow.tags.of_resources("UserVm", [vm.id]))


def check_expunge(uow_factory: UowFactory, caller: Account, vm_uuid: str) -> VM:
    """expungeVirtualMachine: a Destroyed VM (root admin, or its owner as CloudStack allows
    with allow.user.expunge.recover.vm; hvsnap allows the owner)."""
    with uow_factory(readonly=True) as uow:
        vm = require(uow.vms.get_by_uuid(vm_uuid), "Instance", vm_uuid, uow, caller)
        if vm.state != VMState.Destroyed:
            raise InvalidParameterValue(
                f"Instance {vm_uuid} is in state {vm.state}; only a Destroyed one can be expunged (destroy it first)"
            )
    return vm


def expunge(uow_factory: UowFactory, vm_id: int) -> Workflow[VM]:
    """The host dropped a destroyed VM's files already: expunging is the database's."""
    with uow_factory() as uow:
        vm = uow.vms.get(vm_id)
        if vm is None or vm.state != VMState.Destroyed:
            raise InvalidParameterValue("The Instance is no longer Destroyed")
        _expunge(uow, vm)
        uow.commit()
    return vm
    yield  # a workflow, with no host command


def check_reboot(uow_factory: UowFactory, caller: Account, vm_uuid: str) -> VM:
    with uow_factory(readonly=True) as uow:
        vm = require(uow.vms.get_by_uuid(vm_uuid), "Instance", vm_uuid, uow, caller)
        if vm.state != VMState.Running:
            raise InvalidParameterValue(f"Instance {vm_uuid} is in state {vm.state}; only a Running one can reboot")
    return vm


def reboot(uow_factory: UowFactory, vm_id: int) -> Workflow[VM]:
    """Restart the guest: turn it off and on again on the host; it stays registered, its
    checkpoints with it, and Running in the database throughout (as CloudStack's reboot)."""
    with uow_factory(readonly=True) as uow:
        vm = uow.vms.get(vm_id)
    if vm is None or vm.state != VMState.Running:
        raise InvalidParameterValue("The Instance is no longer Running")
    try:
        yield PowerOffVM(hostside.ref(vm))
        yield StartVM(hostside.ref(vm))
    except HostError as err:
        raise CloudRuntimeError(f"Failed to reboot Instance {vm.display_name}: {err}") from err
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


def delete_account(uow_factory: UowFactory, account_id: int) -> Workflow[Account]:
    """deleteAccount's work: every Instance of the account expunged (a live one destroyed
    first, its snapshots deleted as a destroy deletes them), then the account removed."""
    with uow_factory(readonly=True) as uow:
        owned = [vm.id for vm in uow.vms.search(Scope(account_id=account_id)).items]
    for vm_id in owned:
        with uow_factory(readonly=True) as uow:
            vm = uow.vms.get(vm_id)
        if vm is not None and vm.state == VMState.Destroyed:
            yield from expunge(uow_factory, vm_id)
        elif vm is not None:
            yield from destroy(uow_factory, vm_id, expunge=True)
    return accounts.remove_account(uow_factory, account_id)
