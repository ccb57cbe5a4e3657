"""The manager: one entry point per use case, for the CLI, the HTTP API and the features.

Each mutating call runs its synchronous checks (a refusal raises a ``CloudError`` and
writes nothing), then submits the workflow as an async job under the VM's key and returns
the job (finished already when the jobs run inline, as in the CLI). Results are CloudStack
response objects (``harness.service.views``). No rule lives here: this module only wires
checks, workflows, jobs and views together.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.domain.errors import InvalidParameterValue
from harness.domain.model import VM, Account, AccountType, AsyncJob, VMSnapshot
from harness.drivers import Capabilities, ReadGuestData, WriteGuestData
from harness.jobs.queue import AsyncJobs
from harness.jobs.runners import Runner, Workflow
from harness.service import accounts, hostside, views, vms, vmsnapshots, volumes
from harness.service.access import require, scope_of
from harness.store.uow import UowFactory

Obj = dict[str, Any]


class Manager:
    def __init__(self, uow_factory: UowFactory, runner: Runner, jobs: AsyncJobs, capabilities: Capabilities) -> None:
        self.uow_factory = uow_factory
        self.runner = runner
        self.jobs = jobs
        self.capabilities = capabilities

    # ------------------------------------------------------------------ plumbing

    def _job(
        self,
        caller: Account,
        cmd: str,
        key: str,
        workflow: Callable[[], Workflow[Any]],
        present: Callable[[Any], Obj],
        instance: tuple[str, int] | None = None,
    ) -> AsyncJob:
        return self.jobs.submit(caller, cmd, key, lambda: self.runner.run(workflow()), present, instance)

    def _present(self, view: Callable[..., Obj], key: str) -> Callable[[Any], Obj]:
        def present(entity: Any) -> Obj:
            with self.uow_factory(readonly=True) as uow:
                return {key: view(uow, entity)}

        return present

    @staticmethod
    def _success(_: Any) -> Obj:
        return {"success": True, "displaytext": "success"}

    def job_result(self, job: AsyncJob) -> Obj:
        """The job's CloudStack view (queryAsyncJobResult), waiting for it to finish."""
        done = self.jobs.wait(job)
        return views.job(done, self.jobs.result(done))

    def query_job(self, caller: Account, job_uuid: str) -> Obj:
        with self.uow_factory(readonly=True) as uow:
            job = uow.jobs.get_by_uuid(job_uuid)
            if job is None or not (caller.type == AccountType.Admin or job.account_id == caller.id):
                raise InvalidParameterValue(f"Unable to find async job with specified id: {job_uuid}")
        return views.job(job, self.jobs.result(job))

    # ------------------------------------------------------------------ VM snapshots

    def create_vm_snapshot(
        self,
        caller: Account,
        vm_uuid: str,
        name: str | None = None,
        description: str | None = None,
        memory: bool = False,
        quiesce: bool = False,
    ) -> tuple[VMSnapshot, AsyncJob]:
        snap = vmsnapshots.allocate(self.uow_factory, caller, vm_uuid, name, description, memory)
        job = self._job(
            caller,
            "createVMSnapshot",
            vm_uuid,
            lambda: vmsnapshots.create(self.uow_factory, snap.id, quiesce),
            self._present(views.vm_snapshot, "vmsnapshot"),
            ("VmSnapshot", snap.id),
        )
        return snap, job

    def revert_to_vm_snapshot(self, caller: Account, snapshot_uuid: str) -> AsyncJob:
        snap = vmsnapshots.check_revert(self.uow_factory, caller, snapshot_uuid)
        return self._job(
            caller,
            "revertToVMSnapshot",
            self._vm_key(snap.vm_id),
            lambda: vmsnapshots.revert(self.uow_factory, snap.id),
            self._present(views.vm, "virtualmachine"),
            ("VmSnapshot", snap.id),
        )

    def delete_vm_snapshot(self, caller: Account, snapshot_uuid: str) -> AsyncJob:
        snap = vmsnapshots.check_delete(self.uow_factory, caller, snapshot_uuid)
        return self._job(
            caller,
            "deleteVMSnapshot",
            self._vm_key(snap.vm_id),
            lambda: vmsnapshots.delete(self.uow_factory, snap.id),
            self._success,
            ("VmSnapshot", snap.id),
        )

    def delete_vm_snapshots(self, caller: Account, vm_uuid: str) -> AsyncJob:
        vm = vmsnapshots.check_delete_all(self.uow_factory, caller, vm_uuid)
        return self._job(
            caller,
            "deleteVMSnapshots",
            vm_uuid,
            lambda: vmsnapshots.delete_all(self.uow_factory, vm.id),
            lambda n: {"success": True, "displaytext": f"deleted {n} Instance Snapshots"},
            ("VirtualMachine", vm.id),
        )

    def list_vm_snapshots(self, caller: Account, **filters: Any) -> tuple[int, list[Obj]]:
        page = vmsnapshots.search(self.uow_factory, caller, **filters)
        with self.uow_factory(readonly=True) as uow:
            return page.count, views.vm_snapshots(uow, page.items)

    # ------------------------------------------------------------------ VMs

    def deploy_vm(self, caller: Account, name: str, offering: str = "small", start: bool = True) -> tuple[VM, AsyncJob]:
        vm = vms.check_deploy(self.uow_factory, caller, name, offering, start)
        job = self._job(
            caller,
            "deployVirtualMachine",
            vm.uuid,
            lambda: vms.deploy(self.uow_factory, vm.id),
            self._present(views.vm, "virtualmachine"),
            ("VirtualMachine", vm.id),
        )
        return vm, job

    def start_vm(self, caller: Account, vm_uuid: str) -> AsyncJob:
        vm = vms.check_start(self.uow_factory, caller, vm_uuid)
        return self._vm_job(caller, "startVirtualMachine", vm, lambda: vms.start(self.uow_factory, vm.id))

    def stop_vm(self, caller: Account, vm_uuid: str) -> AsyncJob:
        vm = vms.check_stop(self.uow_factory, caller, vm_uuid)
        return self._vm_job(caller, "stopVirtualMachine", vm, lambda: vms.stop(self.uow_factory, vm.id))

    def destroy_vm(self, caller: Account, vm_uuid: str, expunge: bool = False) -> AsyncJob:
        vm = vms.check_destroy(self.uow_factory, caller, vm_uuid)
        return self._vm_job(caller, "destroyVirtualMachine", vm, lambda: vms.destroy(self.uow_factory, vm.id, expunge))

    def change_offering(self, caller: Account, vm_uuid: str, offering: str) -> AsyncJob:
        offering_id = vms.check_change_offering(self.uow_factory, caller, vm_uuid, offering)
        with self.uow_factory(readonly=True) as uow:
            vm = require(uow.vms.get_by_uuid(vm_uuid), "Instance", vm_uuid, uow, caller)
        return self._vm_job(
            caller,
            "changeServiceForVirtualMachine",
            vm,
            lambda: vms.change_offering(self.uow_factory, vm.id, offering_id),
        )

    def _vm_job(self, caller: Account, cmd: str, vm: VM, workflow: Callable[[], Workflow[Any]]) -> AsyncJob:
        return self._job(
            caller, cmd, vm.uuid, workflow, self._present(views.vm, "virtualmachine"), ("VirtualMachine", vm.id)
        )

    def _vm_key(self, vm_id: int) -> str:
        with self.uow_factory(readonly=True) as uow:
            vm = uow.vms.get(vm_id)
        assert vm is not None
        return vm.uuid

    def list_vms(self, caller: Account, **filters: Any) -> tuple[int, list[Obj]]:
        with self.uow_factory(readonly=True) as uow:
            page = uow.vms.search(scope_of(uow, caller), **filters)
            return page.count, views.vms(uow, page.items)

    # ------------------------------------------------------------------ volumes

    def create_volume(self, caller: Account, name: str, size_gb: int) -> Obj:
        vol = volumes.create_volume(self.uow_factory, caller, name, size_gb)
        with self.uow_factory(readonly=True) as uow:
            return views.volumes(uow, [vol])[0]

    def attach_volume(self, caller: Account, volume_uuid: str, vm_uuid: str, attach: bool = True) -> AsyncJob:
        vol, vm = volumes.check_attach(self.uow_factory, caller, volume_uuid, vm_uuid, attach)
        return self._job(
            caller,
            "attachVolume" if attach else "detachVolume",
            vm.uuid,
            lambda: volumes.attach(self.uow_factory, vol.id, vm.id, attach),
            lambda v: {"volume": self._one(views.volumes, v)},
            ("Volume", vol.id),
        )

    def list_volumes(self, caller: Account, vm_uuid: str | None = None) -> tuple[int, list[Obj]]:
        with self.uow_factory(readonly=True) as uow:
            vm_id = None
            if vm_uuid is not None:
                vm_id = require(uow.vms.get_by_uuid(vm_uuid), "Instance", vm_uuid, uow, caller).id
            page = uow.volumes.search(scope_of(uow, caller), vm_id=vm_id)
            return page.count, views.volumes(uow, page.items)

    def create_volume_snapshot(self, caller: Account, volume_uuid: str, name: str | None = None) -> AsyncJob:
        snap = volumes.check_snapshot(self.uow_factory, caller, volume_uuid, name)
        with self.uow_factory(readonly=True) as uow:
            vol = uow.volumes.get(snap.volume_id)
            vm = uow.vms.get(vol.vm_id) if vol and vol.vm_id else None
        return self._job(
            caller,
            "createSnapshot",
            vm.uuid if vm else volume_uuid,
            lambda: volumes.snapshot(self.uow_factory, snap.id),
            lambda s: {"snapshot": self._one(views.volume_snapshots, s)},
            ("Snapshot", snap.id),
        )

    def list_volume_snapshots(self, caller: Account, volume_uuid: str | None = None) -> tuple[int, list[Obj]]:
        with self.uow_factory(readonly=True) as uow:
            volume_id = None
            if volume_uuid is not None:
                volume_id = require(uow.volumes.get_by_uuid(volume_uuid), "volume", volume_uuid, uow, caller).id
            page = uow.volume_snapshots.search(scope_of(uow, caller), volume_id=volume_id)
            return page.count, views.volume_snapshots(uow, page.items)

    def _one(self, view: Callable[..., list[Obj]], entity: Any) -> Obj:
        with self.uow_factory(readonly=True) as uow:
            return view(uow, [entity])[0]

    # ------------------------------------------------------------------ guest data (simulated hosts)

    def write_guest_data(self, caller: Account, vm_uuid: str, key: str, value: str) -> Obj:
        vm = self._guest_vm(caller, vm_uuid)
        self.runner.run(_one_command(WriteGuestData(hostside.ref(vm), key, value)))
        return {"virtualmachineid": vm_uuid, "key": key, "value": value}

    def read_guest_data(self, caller: Account, vm_uuid: str, key: str) -> Obj:
        vm = self._guest_vm(caller, vm_uuid)
        answer = self.runner.run(_one_command(ReadGuestData(hostside.ref(vm), key)))
        return {"virtualmachineid": vm_uuid, "key": key, "value": getattr(answer, "value", None)}

    def _guest_vm(self, caller: Account, vm_uuid: str) -> VM:
        if not self.capabilities.guest_data:
            raise InvalidParameterValue("Guest data is available on simulated hosts only")
        with self.uow_factory(readonly=True) as uow:
            return require(uow.vms.get_by_uuid(vm_uuid), "Instance", vm_uuid, uow, caller)

    # ------------------------------------------------------------------ catalogue

    def list_offerings(self) -> list[Obj]:
        with self.uow_factory(readonly=True) as uow:
            return [views.offering(o) for o in uow.offerings.all()]

    def list_capabilities(self) -> list[Obj]:
        with self.uow_factory(readonly=True) as uow:
            return [views.capabilities(c) for c in uow.capabilities.all()]

    def set_vm_snapshot_enabled(self, caller: Account, enabled: bool, caps_uuid: str | None = None) -> Obj:
        return views.capabilities(accounts.set_vm_snapshot_enabled(self.uow_factory, caller, caps_uuid, enabled))

    def list_config(self, name: str | None = None) -> list[Obj]:
        return [
            {"name": k.name, "value": v, "defaultvalue": k.default, "description": k.description}
            for k, v in accounts.get_config(self.uow_factory, name)
        ]

    def set_config(self, caller: Account, name: str, value: str) -> Obj:
        key, stored = accounts.set_config(self.uow_factory, caller, name, value)
        return {"name": key, "value": stored}


def _one_command(command: Any) -> Workflow[Any]:
    return (yield command)
