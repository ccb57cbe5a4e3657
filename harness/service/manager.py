"""The manager: one entry point per use case, for the CLI, the HTTP API and the features.

Each mutating call runs its synchronous checks (a refusal raises a ``CloudError`` and
writes nothing), then submits the workflow as an async job under the VM's key and returns
the job (finished already when the jobs run inline, as in the CLI). Results are CloudStack
response objects (``harness.service.views``). No rule lives here: this module only wires
checks, workflows, jobs and views together.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from harness.domain import config
from harness.domain.errors import CloudError, InvalidParameterValue
from harness.domain.model import VM, Account, AccountType, AsyncJob, VMSnapshot, Volume
from harness.domain.states import VMState
from harness.drivers import A, Capabilities, Command, ReadGuestData, WriteGuestData
from harness.jobs.queue import AsyncJobs, batched
from harness.jobs.runners import Runner, Workflow, ask
from harness.service import (
    accounts,
    catalogue,
    events,
    hostside,
    instance_search,
    limits,
    nics,
    passwords,
    policies,
    recovery,
    scheduler,
    tags,
    views,
    vms,
    vmsnapshots,
    volumes,
)
from harness.service.access import listing_scope_owner, require, scope_of
from harness.store.repository import existing
from harness.store.uow import UowFactory

Obj = dict[str, Any]


class Manager:
    def __init__(self, uow_factory: UowFactory, runner: Runner, jobs: AsyncJobs, capabilities: Capabilities) -> None:
        self.uow_factory = uow_factory
        self.runner = runner
        self.jobs = jobs
        self.capabilities = capabilities
        self.recovery = recovery.Recovery(self, jobs.msid)
        jobs.msid = self.recovery.msid

    # ------------------------------------------------------------------ plumbing

    def _job(
        self,
        caller: Account,
        cmd: str,
        key: str,
        workflow: Callable[[], Workflow[Any]],
        present: Callable[[Any], Obj],
        instance: tuple[str, int] | None = None,
        abandon: Callable[[], None] | None = None,
    ) -> AsyncJob:
        work = events.around(self.uow_factory, caller, cmd, key, instance, lambda: self.runner.run(workflow()))
        return self.jobs.submit(caller, cmd, key, work, present, instance, abandon=abandon, batched=True)

    def _present(self, view: Callable[..., Obj], key: str) -> Callable[[Any], Obj]:
        def present(entity: Any) -> Obj:
            with self.uow_factory(readonly=True) as uow:
                return {key: view(uow, entity)}

        return present

    def _created(self, snap: VMSnapshot) -> Obj:
        """createVMSnapshot's job result: the snapshot, and a ``warning`` when its chain is
        deeper than ``vmsnapshot.chain.depth.warn``."""
        with self.uow_factory(readonly=True) as uow:
            out: Obj = {"vmsnapshot": views.vm_snapshot(uow, snap)}
            limit = config.parse(config.VMSNAPSHOT_CHAIN_WARN, uow.config.get(config.VMSNAPSHOT_CHAIN_WARN))
        depth = out["vmsnapshot"]["chaindepth"]
        if limit and depth > limit:
            out["warning"] = (
                f"VM snapshot chain depth {depth} exceeds {config.VMSNAPSHOT_CHAIN_WARN.name}={limit}: "
                "reads slow down as the chain grows; delete or consolidate older snapshots"
            )
        return out

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
            return views.job(job, self.jobs.result(job), views.job_refs(uow, job))

    # ------------------------------------------------------------------ VM snapshots

    @batched
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
            self._created,
            ("VmSnapshot", snap.id),
            abandon=lambda: vmsnapshots.drop_allocated(self.uow_factory, snap.id),
        )
        return snap, job

    @batched
    def revert_to_vm_snapshot(self, caller: Account, snapshot_uuid: str) -> AsyncJob:
        snap = vmsnapshots.check_revert(self.uow_factory, caller, snapshot_uuid)
        return self._job(
            caller,
            "revertToVMSnapshot",
            self._vm_key(snap.vm_id),
            lambda: vmsnapshots.revert(self.uow_factory, snap.id, self.capabilities.clustered),
            self._present(views.vm, "virtualmachine"),
            ("VmSnapshot", snap.id),
        )

    @batched
    def delete_vm_snapshot(self, caller: Account, snapshot_uuid: str, subtree: bool = False) -> AsyncJob:
        """``subtree``: the snapshots below it go too (Remove-VMSnapshot -IncludeAllChildSnapshots)."""
        snap = vmsnapshots.check_delete(self.uow_factory, caller, snapshot_uuid, subtree)
        if subtree:
            work = lambda: vmsnapshots.delete_subtree(self.uow_factory, snap.id)  # noqa: E731
        else:
            work = lambda: vmsnapshots.delete(self.uow_factory, snap.id, expected=snap.state)  # noqa: E731
        return self._job(
            caller,
            "deleteVMSnapshot",
            self._vm_key(snap.vm_id),
            work,
            self._success,
            ("VmSnapshot", snap.id),
        )

    @batched
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

    @batched
    def deploy_vm(
        self,
        caller: Account,
        name: str,
        offering: str = "small",
        start: bool = True,
        template_uuid: str | None = None,
        keypair: str | None = None,
    ) -> tuple[VM, AsyncJob]:
        """deployVirtualMachine; from a ``passwordenabled`` template the guest gets a fresh
        root password, answered once in the job's result (``password``), as CloudStack does."""
        vm = vms.check_deploy(self.uow_factory, caller, name, offering, start, template_uuid, keypair)
        template = catalogue.template_by_uuid(template_uuid)
        password = passwords.random_password() if template is not None and template.password_enabled else None
        job = self._job(
            caller,
            "deployVirtualMachine",
            vm.uuid,
            lambda: vms.deploy(self.uow_factory, vm.id, password),
            self._with_password(password),
            ("VirtualMachine", vm.id),
        )
        return vm, job

    def _with_password(self, password: str | None) -> Callable[[Any], Obj]:
        """The VM as a job's result, with the guest's new ``password`` when there is one."""
        present = self._present(views.vm, "virtualmachine")

        def with_password(entity: Any) -> Obj:
            out = present(entity)
            out["virtualmachine"]["password"] = password
            return out

        return present if password is None else with_password

    @batched
    def reset_password(self, caller: Account, vm_uuid: str, password: str | None = None) -> AsyncJob:
        """resetPasswordForVirtualMachine (a Stopped VM of a passwordenabled template): the
        job's result is the VM with its new ``password``, which the guest takes at its next start."""
        vm, chosen = vms.reset_password(self.uow_factory, caller, vm_uuid, password)
        return self._job(
            caller,
            "resetPasswordForVirtualMachine",
            vm.uuid,
            lambda: _returning(vm),
            self._with_password(chosen),
            ("VirtualMachine", vm.id),
        )

    @batched
    def reset_ssh_key(self, caller: Account, vm_uuid: str, names: list[str]) -> AsyncJob:
        """resetSSHKeyForVirtualMachine (a Stopped VM); the job's result is the VM."""
        vm = vms.reset_ssh_key(self.uow_factory, caller, vm_uuid, names)
        return self._job(
            caller,
            "resetSSHKeyForVirtualMachine",
            vm.uuid,
            lambda: _returning(vm),
            self._present(views.vm, "virtualmachine"),
            ("VirtualMachine", vm.id),
        )

    @batched
    def start_vm(self, caller: Account, vm_uuid: str) -> AsyncJob:
        vm = vms.check_start(self.uow_factory, caller, vm_uuid)
        return self._vm_job(
            caller, "startVirtualMachine", vm, lambda: vms.start(self.uow_factory, vm.id), self._unbegin(vm)
        )

    @batched
    def stop_vm(self, caller: Account, vm_uuid: str) -> AsyncJob:
        vm = vms.check_stop(self.uow_factory, caller, vm_uuid)
        return self._vm_job(
            caller,
            "stopVirtualMachine",
            vm,
            lambda: vms.stop(self.uow_factory, vm.id, not self.capabilities.deferred_merges),
            self._unbegin(vm),
        )

    @batched
    def destroy_vm(self, caller: Account, vm_uuid: str, expunge: bool = False) -> AsyncJob:
        vm = vms.check_destroy(self.uow_factory, caller, vm_uuid, expunge)
        if vm.state == VMState.Destroyed:  # destroyed already: the expunge is what is left
            return self._vm_job(caller, "destroyVirtualMachine", vm, lambda: vms.expunge(self.uow_factory, vm.id))
        return self._vm_job(caller, "destroyVirtualMachine", vm, lambda: vms.destroy(self.uow_factory, vm.id, expunge))

    @batched
    def expunge_vm(self, caller: Account, vm_uuid: str) -> AsyncJob:
        """expungeVirtualMachine: a Destroyed VM's row goes; the job's result is success."""
        vm = vms.check_expunge(self.uow_factory, caller, vm_uuid)
        return self._job(
            caller,
            "expungeVirtualMachine",
            vm.uuid,
            lambda: vms.expunge(self.uow_factory, vm.id),
            self._success,
            ("VirtualMachine", vm.id),
        )

    @batched
    def reboot_vm(self, caller: Account, vm_uuid: str) -> AsyncJob:
        vm = vms.check_reboot(self.uow_factory, caller, vm_uuid)
        return self._vm_job(caller, "rebootVirtualMachine", vm, lambda: vms.reboot(self.uow_factory, vm.id))

    @batched
    def delete_account(self, caller: Account, account_uuid: str) -> AsyncJob:
        """deleteAccount: expunge the account's VMs (their snapshots deleted first, as a
        destroy does), then remove the account and its users."""
        account = accounts.check_delete_account(self.uow_factory, caller, account_uuid)
        return self._job(
            caller,
            "deleteAccount",
            account.uuid,
            lambda: vms.delete_account(self.uow_factory, account.id),
            self._success,
            ("Account", account.id),
        )

    @batched
    def create_tags(
        self, caller: Account, kind: str, resource_uuids: list[str], pairs: list[dict[str, str]], customer: str | None
    ) -> AsyncJob:
        """createTags: checked and written now, its job only reports success."""
        made = tags.create(self.uow_factory, caller, kind, resource_uuids, pairs, customer)
        return self._job(caller, "createTags", resource_uuids[0], lambda: _returning(made), self._success)

    @batched
    def delete_tags(
        self, caller: Account, kind: str, resource_uuids: list[str], pairs: list[dict[str, str]] | None
    ) -> AsyncJob:
        count = tags.delete(self.uow_factory, caller, kind, resource_uuids, pairs)
        return self._job(caller, "deleteTags", resource_uuids[0], lambda: _returning(count), self._success)

    @batched
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

    def _vm_job(
        self,
        caller: Account,
        cmd: str,
        vm: VM,
        workflow: Callable[[], Workflow[Any]],
        abandon: Callable[[], None] | None = None,
    ) -> AsyncJob:
        return self._job(
            caller,
            cmd,
            vm.uuid,
            workflow,
            self._present(views.vm, "virtualmachine"),
            ("VirtualMachine", vm.id),
            abandon,
        )

    def _unbegin(self, vm: VM) -> Callable[[], None]:
        """A start or stop refused before it ran: the VM goes back from Starting/Stopping."""
        return lambda: vms.abandon(self.uow_factory, vm.id)

    def _vm_key(self, vm_id: int) -> str:
        with self.uow_factory(readonly=True) as uow:
            return existing(uow.vms.get(vm_id), "Instance", vm_id).uuid

    def list_vms(self, caller: Account, **filters: Any) -> tuple[int, list[Obj]]:
        with self.uow_factory(readonly=True) as uow:
            page = uow.vms.search(scope_of(uow, caller), **filters)
            return page.count, views.vms(uow, page.items)

    # ------------------------------------------------------------------ volumes

    def create_volume(self, caller: Account, name: str, size_gb: int) -> Obj:
        vol = volumes.create_volume(self.uow_factory, caller, name, size_gb)
        with self.uow_factory(readonly=True) as uow:
            return views.volumes(uow, [vol])[0]

    @batched
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

    @batched
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
        return {"virtualmachineid": vm_uuid, "key": key, "value": answer.value}

    def _guest_vm(self, caller: Account, vm_uuid: str) -> VM:
        if not self.capabilities.guest_data:
            raise InvalidParameterValue("Guest data is available on simulated hosts only")
        with self.uow_factory(readonly=True) as uow:
            vm = require(uow.vms.get_by_uuid(vm_uuid), "Instance", vm_uuid, uow, caller)
        if vm.state != VMState.Running:
            raise InvalidParameterValue(
                f"Instance {vm_uuid} is in state {vm.state}; guest data is read and written on a Running Instance"
            )
        return vm

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

    # ------------------------------------------------------------------ HTTP API

    def account_by_api_key(self, api_key: str) -> Account | None:
        """The account whose user holds ``api_key`` (the API then checks the signature)."""
        with self.uow_factory(readonly=True) as uow:
            return uow.accounts.by_api_key(api_key)

    def search_vm_snapshots(
        self,
        caller: Account,
        snapshot_uuids: list[str] | None = None,
        tag_filter: list[dict[str, str]] | None = None,
        project_uuid: str | None = None,
        account_name: str | None = None,
        **filters: Any,
    ) -> tuple[int, list[Obj]]:
        """listVMSnapshot with all of CloudStack's parameters: ``vmsnapshotids`` (exclusive
        with ``vmsnapshotid``), ``account`` by name, ``tags`` (the snapshots carrying every
        key=value given) and ``projectid`` (no projects exist)."""
        if project_uuid is not None:
            raise InvalidParameterValue(f"Unable to find project with specified id: {project_uuid}")
        if account_name is not None and filters.get("account_uuid") is None:
            filters["account_uuid"] = accounts.account_named(self.uow_factory, account_name).uuid
        if tag_filter:
            tagged = tags.matching_uuids(self.uow_factory, "VMSnapshot", tag_filter)
            if snapshot_uuids is None and filters.get("snapshot_uuid") is not None:
                one = filters.pop("snapshot_uuid")
                tagged = {one} & tagged
            snapshot_uuids = sorted(tagged) if snapshot_uuids is None else [u for u in snapshot_uuids if u in tagged]
            if not snapshot_uuids:
                vmsnapshots.search(self.uow_factory, caller, **filters)  # still validate the rest
                return 0, []
        if snapshot_uuids is None:
            return self.list_vm_snapshots(caller, **filters)
        if filters.pop("snapshot_uuid", None) is not None:
            raise InvalidParameterValue("vmsnapshotid and vmsnapshotids are mutually exclusive")
        page, pagesize = filters.pop("page", None), filters.pop("pagesize", None)
        _check_paging(page, pagesize)
        found: list[Obj] = []
        for one in dict.fromkeys(snapshot_uuids):
            found += self.list_vm_snapshots(caller, snapshot_uuid=one, **filters)[1]
        found.sort(key=lambda s: s["created"] or "", reverse=True)
        if pagesize:
            start = ((page or 1) - 1) * pagesize
            return len(found), found[start : start + pagesize]
        return len(found), found

    def detach_volume(self, caller: Account, volume_uuid: str) -> AsyncJob:
        """detachVolume by volume id: the Instance is the one it is attached to."""
        with self.uow_factory(readonly=True) as uow:
            vol = require(uow.volumes.get_by_uuid(volume_uuid), "volume", volume_uuid, uow, caller)
            vm = uow.vms.get(vol.vm_id) if vol.vm_id is not None else None
        if vm is None:
            raise InvalidParameterValue(f"Volume {volume_uuid} is not attached to an Instance")
        return self.attach_volume(caller, volume_uuid, vm.uuid, attach=False)

    def list_jobs(self, caller: Account, page: int | None = None, pagesize: int | None = None) -> tuple[int, list[Obj]]:
        """listAsyncJobs: the root admin sees every job, anyone else its own account's (as
        queryAsyncJobResult decides); newest first."""
        _check_paging(page, pagesize)
        with self.uow_factory(readonly=True) as uow:
            found = uow.jobs.search(
                None if caller.type == AccountType.Admin else frozenset({caller.id}), page, pagesize
            )
            return found.count, [views.job(j, self.jobs.result(j), views.job_refs(uow, j)) for j in found.items]

    def search_vms(
        self,
        caller: Account,
        vm_uuid: str | None = None,
        state: str | None = None,
        keyword: str | None = None,
        page: int | None = None,
        pagesize: int | None = None,
        own_only: bool = False,
        tag_filter: list[dict[str, str]] | None = None,
    ) -> tuple[int, list[Obj]]:
        """listVirtualMachines (:func:`harness.service.instance_search.search`)."""
        return instance_search.search(
            self.uow_factory, caller, vm_uuid, state, keyword, page, pagesize, own_only, tag_filter
        )

    def deploy_vm_in(
        self,
        caller: Account,
        name: str | None,
        offering: str,
        start: bool = True,
        zone_uuid: str | None = None,
        template_uuid: str | None = None,
        account_name: str | None = None,
        domain_uuid: str | None = None,
        keypair: str | None = None,
    ) -> tuple[VM, AsyncJob]:
        """deployVirtualMachine with its zone and template (checked, then placed as usual),
        for ``account`` (in ``domainid``) when an admin deploys on its behalf."""
        accounts.check_placement(self.uow_factory, zone_uuid, template_uuid)
        owner = caller
        if account_name is not None:
            with self.uow_factory(readonly=True) as uow:
                owner = listing_scope_owner(uow, caller, account_name, domain_uuid)
        return self.deploy_vm(owner, name or f"VM-{uuid.uuid4()}", offering, start, template_uuid, keypair)

    @batched
    def create_volume_job(self, caller: Account, name: str, size_gb: int) -> tuple[Volume, AsyncJob]:
        """createVolume as CloudStack's API has it: async, its job's result the volume."""
        vol = volumes.create_volume(self.uow_factory, caller, name, size_gb)
        job = self._job(
            caller,
            "createVolume",
            vol.uuid,
            lambda: _returning(vol),
            lambda v: {"volume": self._one(views.volumes, v)},
            ("Volume", vol.id),
        )
        return vol, job

    def change_offering_now(self, caller: Account, vm_uuid: str, offering: str) -> Obj:
        """changeServiceForVirtualMachine is synchronous in CloudStack: wait for the job."""
        done = self.job_result(self.change_offering(caller, vm_uuid, offering))
        if done["jobstatus"] != 1:
            raise CloudError.coded(done["jobresult"]["errorcode"], done["jobresult"]["errortext"])
        return done["jobresult"]["virtualmachine"]

    def list_zones(self, zone_uuid: str | None = None, name: str | None = None) -> list[Obj]:
        with self.uow_factory(readonly=True) as uow:
            cidr = str(nics.guest_network(uow))
            return [
                {**views.zone(z), "guestcidraddress": cidr}
                for z in uow.zones.all()
                if zone_uuid in (None, z.uuid) and name in (None, z.name)
            ]

    def list_domains(self, caller: Account, domain_uuid: str | None = None, name: str | None = None) -> list[Obj]:
        found = accounts.visible_domains(self.uow_factory, caller)
        with self.uow_factory(readonly=True) as uow:
            return [
                views.domain(uow, d)
                for d in found
                if (domain_uuid is None or d.uuid == domain_uuid) and (name is None or d.name == name)
            ]

    def list_accounts(self, caller: Account, account_uuid: str | None = None, name: str | None = None) -> list[Obj]:
        found = accounts.visible_accounts(self.uow_factory, caller)
        with self.uow_factory(readonly=True) as uow:
            return [
                views.account(uow, a)
                for a in found
                if (account_uuid is None or a.uuid == account_uuid) and (name is None or a.name == name)
            ]

    def create_domain(self, caller: Account, name: str, parent_uuid: str | None = None) -> Obj:
        domain = accounts.create_domain(self.uow_factory, caller, name, parent_uuid)
        with self.uow_factory(readonly=True) as uow:
            return views.domain(uow, domain)

    def create_account(
        self,
        caller: Account,
        name: str,
        account_type: int | None = None,
        domain_uuid: str | None = None,
        password: str | None = None,
        firstname: str | None = None,
        lastname: str | None = None,
        email: str | None = None,
    ) -> Obj:
        """createAccount: the account with its one user (``user: [...]``)."""
        kind = accounts.account_type(account_type)
        for label, value in (("firstname", firstname), ("lastname", lastname), ("email", email)):
            if value is not None and len(value) > 255:
                raise InvalidParameterValue(f"{label} must have at most 255 characters")
        hashed = None
        if password is not None:
            passwords.check_new_password(password)
            hashed = passwords.hash_password(password)
        account = accounts.create_account(self.uow_factory, caller, name, kind, domain_uuid, hashed)
        accounts.set_user_names(self.uow_factory, account, firstname, lastname, email)
        with self.uow_factory(readonly=True) as uow:
            return views.account(uow, account)

    # ------------------------------------------------------------------ console login

    def authenticate(self, username: str, password: str, domain: str | None = None) -> Account:
        """The account of ``username`` when ``password`` is right; else 531 (constant work)."""
        return passwords.authenticate(self.uow_factory, username, password, domain)

    def set_password(
        self, caller: Account, user_uuid: str, password: str, current: str | None = None
    ) -> tuple[Account, Obj]:
        """``updateUser``'s password: the user's account and its response object."""
        account = passwords.set_password(self.uow_factory, caller, user_uuid, password, current)
        with self.uow_factory(readonly=True) as uow:
            users = views.account(uow, account).get("user") or [{}]
        return account, next((u for u in users if u.get("id") == user_uuid), users[0])

    def account_by_id(self, account_id: int) -> Account | None:
        """The live account with database id ``account_id`` (a session's owner)."""
        with self.uow_factory(readonly=True) as uow:
            return uow.accounts.get(account_id)

    def register_keys(self, caller: Account, user_uuid: str) -> Obj:
        account = accounts.register_keys(self.uow_factory, caller, user_uuid)
        return {"apikey": account.api_key, "secretkey": account.secret_key}

    def create_offering(self, caller: Account, name: str, cpu: int, speed: int, ram: int) -> Obj:
        return views.offering(accounts.create_offering(self.uow_factory, caller, name, cpu, speed, ram))

    # ------------------------------------------------------------------ policies and limits

    def create_vm_snapshot_policy(
        self,
        caller: Account,
        vm_uuid: str,
        intervaltype: str,
        schedule: str,
        timezone: str,
        maxsnaps: int,
        memory: bool = False,
        quiesce: bool = False,
    ) -> Obj:
        policy = policies.create(
            self.uow_factory, caller, vm_uuid, intervaltype, schedule, timezone, maxsnaps, memory, quiesce
        )
        with self.uow_factory(readonly=True) as uow:
            return policies.view(uow, policy)

    def list_vm_snapshot_policies(
        self, caller: Account, policy_uuid: str | None = None, vm_uuid: str | None = None
    ) -> list[Obj]:
        return policies.search(self.uow_factory, caller, policy_uuid, vm_uuid)

    def update_vm_snapshot_policy(self, caller: Account, policy_uuid: str, **changes: Any) -> Obj:
        policy = policies.update(self.uow_factory, caller, policy_uuid, **changes)
        with self.uow_factory(readonly=True) as uow:
            return policies.view(uow, policy)

    def delete_vm_snapshot_policies(
        self, caller: Account, policy_uuids: list[str] | None = None, vm_uuid: str | None = None
    ) -> Obj:
        n = policies.delete(self.uow_factory, caller, policy_uuids, vm_uuid)
        return {"success": True, "displaytext": f"deleted {n} VM snapshot policies"}

    def update_resource_limit(
        self,
        caller: Account,
        resourcetype: str | int,
        max_: int | None,
        account_name: str | None = None,
        domain_uuid: str | None = None,
    ) -> Obj:
        return limits.update_limit(self.uow_factory, caller, resourcetype, max_, account_name, domain_uuid)

    def list_resource_limits(
        self,
        caller: Account,
        resourcetype: str | int | None = None,
        account_name: str | None = None,
        domain_uuid: str | None = None,
    ) -> list[Obj]:
        return limits.list_limits(self.uow_factory, caller, resourcetype, account_name, domain_uuid)

    def policy_scheduler(self, clock: scheduler.Clock | None = None) -> scheduler.Scheduler:
        """A policy scheduler whose runs are this manager's async jobs."""
        return scheduler.Scheduler(self.uow_factory, clock or scheduler.WallClock(), scheduler.job_launch(self))

    def sync_vm_snapshots(self, caller: Account) -> Obj:
        """VMSnapshotSync on demand (``hvsnap sync``, ``syncVMSnapshot``; root admin): take
        over the jobs of dead managers, settle what is in flight on no live manager, and
        reconcile with the host. Returns what it settled, per snapshot and VM."""
        accounts.require_root_admin(caller)
        return self.recovery.recover("on demand").as_dict()

    def run_due_policies(self, caller: Account, clock: scheduler.Clock | None = None) -> Obj:
        """Run every policy that is due now, once (``hvsnap policy run-due``; root admin)."""
        accounts.require_root_admin(caller)
        report = self.policy_scheduler(clock).tick()
        return {
            "launched": report.launched,
            "retried": report.retried,
            "refused": report.refused,
            "missed": report.missed,
            "removed": report.removed,
        }


def _one_command(command: Command[A]) -> Workflow[A]:
    return (yield from ask(command))


def _returning(value: Any) -> Workflow[Any]:
    """A workflow with no host command: its result is ``value``."""
    return value
    yield  # a generator, never reached


def _check_paging(page: int | None, pagesize: int | None) -> None:
    if (page is not None and page < 1) or (pagesize is not None and pagesize < 1):
        raise InvalidParameterValue("page and pagesize must be positive whole numbers")
