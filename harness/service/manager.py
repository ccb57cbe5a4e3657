"""The manager: one entry point per use case, for the CLI, the HTTP API and the features.

Each mutating call runs its synchronous checks (a refusal raises a ``CloudError`` and
writes nothing), then submits the workflow as an async job on the queue of the VM it
changes and returns the job (finished already when the jobs run inline, as in the CLI).
Results are CloudStack response objects (``harness.service.views``, ``results``). No rule
lives here: each method hands its request to the service function that holds the rules
(``vmsnapshots``, ``vms``, ``volumes``, ``listings``, ``access``, ``accounts`` ...) and
only wires checks, workflows, jobs and views together.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from harness.domain.model import VM, Account, AsyncJob, VMSnapshot, Volume
from harness.domain.states import VMState
from harness.drivers import Capabilities, ReadGuestData, WriteGuestData
from harness.jobs.queue import AsyncJobs, batched
from harness.jobs.runners import Runner, Workflow
from harness.service import (
    access,
    accounts,
    catalogue,
    events,
    hostside,
    keypairs,
    limits,
    listings,
    passwords,
    policies,
    recovery,
    results,
    scheduler,
    tags,
    views,
    vms,
    vmsnapshots,
    volumes,
)
from harness.store.ports import UowFactory

Obj = dict[str, Any]
Listed = listings.Listed


class Manager:
    def __init__(self, uow_factory: UowFactory, runner: Runner, jobs: AsyncJobs, capabilities: Capabilities) -> None:
        self.uow_factory = uow_factory
        self.runner = runner
        self.jobs = jobs
        self.capabilities = capabilities
        self.recovery = recovery.Recovery(self, jobs.msid)
        jobs.msid = self.recovery.msid

    # ------------------------------------------------------------------ jobs

    def _job(
        self,
        caller: Account,
        cmd: str,
        key: str,
        workflow: Callable[[], Workflow[Any]],
        present: results.Presenter,
        instance: tuple[str, int] | None = None,
        abandon: Callable[[], None] | None = None,
        instance_uuid: str | None = None,
    ) -> AsyncJob:
        """Submit ``workflow`` as the job ``cmd`` on the queue ``key`` (a VM's uuid);
        ``instance_uuid``: the uuid of ``instance``, when at hand."""
        run = lambda: self.runner.run(workflow())  # noqa: E731
        work = events.around(self.uow_factory, caller, cmd, key, instance, run, instance_uuid)
        return self.jobs.submit(caller, cmd, key, work, present, instance, abandon=abandon, batched=True)

    def _vm_job(
        self,
        caller: Account,
        cmd: str,
        vm: VM,
        workflow: Callable[[], Workflow[Any]],
        abandon: Callable[[], None] | None = None,
    ) -> AsyncJob:
        view = self._vm_view()
        return self._job(caller, cmd, vm.uuid, workflow, view, ("VirtualMachine", vm.id), abandon, vm.uuid)

    def _vm_view(self, password: str | None = None) -> results.Presenter:
        return results.vm(self.uow_factory, password)

    def job_result(self, job: AsyncJob) -> Obj:
        """The job's CloudStack view (queryAsyncJobResult), waiting for it to finish."""
        done = self.jobs.wait(job)
        return views.job(done, self.jobs.result(done))

    def job_outcome(self, job: AsyncJob) -> Obj:
        """The finished job's ``jobresult`` (waiting for it); its failure raised as the
        CloudError it was, for the commands CloudStack answers synchronously."""
        return results.outcome(self.job_result(job))

    def query_job(self, caller: Account, job_uuid: str) -> Obj:
        return results.query(self.uow_factory, self.jobs, caller, job_uuid)

    def list_jobs(self, caller: Account, page: int | None = None, pagesize: int | None = None) -> Listed:
        return results.search(self.uow_factory, self.jobs, caller, page, pagesize)

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
            results.created_snapshot(self.uow_factory),
            ("VmSnapshot", snap.id),
            abandon=lambda: vmsnapshots.drop_allocated(self.uow_factory, snap.id),
            instance_uuid=snap.uuid,
        )
        return snap, job

    @batched
    def revert_to_vm_snapshot(self, caller: Account, snapshot_uuid: str) -> AsyncJob:
        snap = vmsnapshots.check_revert(self.uow_factory, caller, snapshot_uuid)
        return self._job(
            caller,
            "revertToVMSnapshot",
            access.vm_key(self.uow_factory, snap.vm_id),
            lambda: vmsnapshots.revert(self.uow_factory, snap.id, self.capabilities.clustered),
            self._vm_view(),
            ("VmSnapshot", snap.id),
            instance_uuid=snap.uuid,
        )

    @batched
    def delete_vm_snapshot(self, caller: Account, snapshot_uuid: str, subtree: bool = False) -> AsyncJob:
        """``subtree``: the snapshots below it go too (Remove-VMSnapshot -IncludeAllChildSnapshots)."""
        snap = vmsnapshots.check_delete(self.uow_factory, caller, snapshot_uuid, subtree)
        if subtree:
            work = lambda: vmsnapshots.delete_subtree(self.uow_factory, snap.id)  # noqa: E731
        else:
            work = lambda: vmsnapshots.delete(self.uow_factory, snap.id, expected=snap.state)  # noqa: E731
        key = access.vm_key(self.uow_factory, snap.vm_id)
        instance = ("VmSnapshot", snap.id)
        return self._job(caller, "deleteVMSnapshot", key, work, results.success, instance, instance_uuid=snap.uuid)

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

    def list_vm_snapshots(self, caller: Account, **filters: Any) -> Listed:
        """listVMSnapshot (:func:`harness.service.listings.vm_snapshots`)."""
        return listings.vm_snapshots(self.uow_factory, caller, **filters)

    # ------------------------------------------------------------------ VMs

    @batched
    def deploy_vm(
        self,
        caller: Account,
        name: str | None,
        offering: str = "small",
        start: bool = True,
        template_uuid: str | None = None,
        keypair: str | None = None,
        zone_uuid: str | None = None,
        account_name: str | None = None,
        domain_uuid: str | None = None,
    ) -> tuple[VM, AsyncJob]:
        """deployVirtualMachine, in ``zone_uuid`` from ``template_uuid`` when given, for
        ``account`` (in ``domainid``) when an admin deploys on its behalf. From a
        ``passwordenabled`` template the guest gets a fresh root password, answered once
        in the job's result (``password``), as CloudStack does."""
        owner = accounts.deploy_owner(self.uow_factory, caller, zone_uuid, template_uuid, account_name, domain_uuid)
        name = name or f"VM-{uuid.uuid4()}"
        vm = vms.check_deploy(self.uow_factory, owner, name, offering, start, template_uuid, keypair)
        template = catalogue.template_by_uuid(template_uuid)
        password = passwords.random_password() if template is not None and template.password_enabled else None
        job = self._job(
            owner,
            "deployVirtualMachine",
            vm.uuid,
            lambda: vms.deploy(self.uow_factory, vm.id, password),
            self._vm_view(password),
            ("VirtualMachine", vm.id),
        )
        return vm, job

    @batched
    def reset_password(self, caller: Account, vm_uuid: str, password: str | None = None) -> AsyncJob:
        """resetPasswordForVirtualMachine (a Stopped VM of a passwordenabled template): the
        job's result is the VM with its new ``password``, which the guest takes at its next start."""
        vm, chosen = vms.reset_password(self.uow_factory, caller, vm_uuid, password)
        return self._job(
            caller,
            "resetPasswordForVirtualMachine",
            vm.uuid,
            lambda: results.returning(vm),
            self._vm_view(chosen),
            ("VirtualMachine", vm.id),
        )

    @batched
    def reset_ssh_key(self, caller: Account, vm_uuid: str, names: list[str]) -> AsyncJob:
        """resetSSHKeyForVirtualMachine (a Stopped VM); the job's result is the VM."""
        vm = vms.reset_ssh_key(self.uow_factory, caller, vm_uuid, names)
        return self._vm_job(caller, "resetSSHKeyForVirtualMachine", vm, lambda: results.returning(vm))

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

    def _unbegin(self, vm: VM) -> Callable[[], None]:
        """A start or stop refused before it ran: the VM goes back from Starting/Stopping."""
        return lambda: vms.abandon(self.uow_factory, vm.id)

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
            results.success,
            ("VirtualMachine", vm.id),
        )

    @batched
    def reboot_vm(self, caller: Account, vm_uuid: str) -> AsyncJob:
        vm = vms.check_reboot(self.uow_factory, caller, vm_uuid)
        return self._vm_job(caller, "rebootVirtualMachine", vm, lambda: vms.reboot(self.uow_factory, vm.id))

    @batched
    def change_offering(self, caller: Account, vm_uuid: str, offering: str) -> AsyncJob:
        """changeServiceForVirtualMachine (a Stopped VM): its memory snapshots are discarded."""
        offering_id = vms.check_change_offering(self.uow_factory, caller, vm_uuid, offering)
        vm = access.visible_vm(self.uow_factory, caller, vm_uuid)
        return self._vm_job(
            caller,
            "changeServiceForVirtualMachine",
            vm,
            lambda: vms.change_offering(self.uow_factory, vm.id, offering_id),
        )

    def list_vms(self, caller: Account, **filters: Any) -> Listed:
        """listVirtualMachines (:func:`harness.service.listings.vms`)."""
        return listings.vms(self.uow_factory, caller, **filters)

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
            results.success,
            ("Account", account.id),
        )

    # ------------------------------------------------------------------ tags, events, key pairs

    @batched
    def create_tags(
        self, caller: Account, kind: str, resource_uuids: list[str], pairs: list[dict[str, str]], customer: str | None
    ) -> AsyncJob:
        """createTags: checked and written now, its job only reports success."""
        made = tags.create(self.uow_factory, caller, kind, resource_uuids, pairs, customer)
        return self._job(caller, "createTags", resource_uuids[0], lambda: results.returning(made), results.success)

    @batched
    def delete_tags(
        self, caller: Account, kind: str, resource_uuids: list[str], pairs: list[dict[str, str]] | None
    ) -> AsyncJob:
        count = tags.delete(self.uow_factory, caller, kind, resource_uuids, pairs)
        return self._job(caller, "deleteTags", resource_uuids[0], lambda: results.returning(count), results.success)

    def list_tags(self, caller: Account, **filters: Any) -> Listed:
        """listTags (:func:`harness.service.tags.search`)."""
        return listings.tag_list(self.uow_factory, caller, **filters)

    def list_events(self, caller: Account, **filters: Any) -> Listed:
        """listEvents (:func:`harness.service.listings.event_list`)."""
        return listings.event_list(self.uow_factory, caller, **filters)

    def register_key_pair(
        self,
        caller: Account,
        name: str,
        public_key: str,
        account_name: str | None = None,
        domain_uuid: str | None = None,
    ) -> Obj:
        pair = keypairs.register(self.uow_factory, caller, name, public_key, account_name, domain_uuid)
        with self.uow_factory(readonly=True) as uow:
            return views.ssh_keypairs(uow, [pair])[0]

    def list_key_pairs(self, caller: Account, **filters: Any) -> Listed:
        """listSSHKeyPairs (:func:`harness.service.keypairs.search`)."""
        return listings.key_pairs(self.uow_factory, caller, **filters)

    def delete_key_pair(
        self, caller: Account, name: str, account_name: str | None = None, domain_uuid: str | None = None
    ) -> None:
        keypairs.delete(self.uow_factory, caller, name, account_name, domain_uuid)

    # ------------------------------------------------------------------ volumes

    @batched
    def create_volume(self, caller: Account, name: str, size_gb: int) -> tuple[Volume, AsyncJob]:
        """createVolume as CloudStack's API has it: async, its job's result the volume."""
        vol = volumes.create_volume(self.uow_factory, caller, name, size_gb)
        job = self._job(
            caller,
            "createVolume",
            vol.uuid,
            lambda: results.returning(vol),
            results.listed(self.uow_factory, views.volumes, "volume"),
            ("Volume", vol.id),
        )
        return vol, job

    @batched
    def attach_volume(self, caller: Account, volume_uuid: str, vm_uuid: str, attach: bool = True) -> AsyncJob:
        vol, vm = volumes.check_attach(self.uow_factory, caller, volume_uuid, vm_uuid, attach)
        return self._job(
            caller,
            "attachVolume" if attach else "detachVolume",
            vm.uuid,
            lambda: volumes.attach(self.uow_factory, vol.id, vm.id, attach),
            results.listed(self.uow_factory, views.volumes, "volume"),
            ("Volume", vol.id),
        )

    def detach_volume(self, caller: Account, volume_uuid: str) -> AsyncJob:
        """detachVolume by volume id: the Instance is the one it is attached to."""
        vm = access.attached_vm(self.uow_factory, caller, volume_uuid)
        return self.attach_volume(caller, volume_uuid, vm.uuid, attach=False)

    def list_volumes(self, caller: Account, vm_uuid: str | None = None) -> Listed:
        return listings.volumes(self.uow_factory, caller, vm_uuid)

    @batched
    def create_volume_snapshot(self, caller: Account, volume_uuid: str, name: str | None = None) -> AsyncJob:
        snap = volumes.check_snapshot(self.uow_factory, caller, volume_uuid, name)
        return self._job(
            caller,
            "createSnapshot",
            access.volume_snapshot_key(self.uow_factory, snap, volume_uuid),
            lambda: volumes.snapshot(self.uow_factory, snap.id),
            results.listed(self.uow_factory, views.volume_snapshots, "snapshot"),
            ("Snapshot", snap.id),
        )

    def list_volume_snapshots(self, caller: Account, volume_uuid: str | None = None) -> Listed:
        return listings.volume_snapshots(self.uow_factory, caller, volume_uuid)

    # ------------------------------------------------------------------ guest data (simulated hosts)

    def write_guest_data(self, caller: Account, vm_uuid: str, key: str, value: str) -> Obj:
        """Write ``key`` = ``value`` on the guest's disk: a job on the VM's queue, so it
        never runs beside a snapshot, revert or stop of the same VM; answered when done."""
        vm = access.guest_vm(self.uow_factory, caller, vm_uuid, self.capabilities.guest_data)
        written = {"virtualmachineid": vm_uuid, "key": key, "value": value}
        job = self._job(
            caller,
            "writeGuestData",
            vm.uuid,
            lambda: results.one_command(WriteGuestData(hostside.ref(vm), key, value)),
            lambda _: {"guestdata": written},
            ("VirtualMachine", vm.id),
        )
        return self.job_outcome(job)["guestdata"]

    def read_guest_data(self, caller: Account, vm_uuid: str, key: str) -> Obj:
        vm = access.guest_vm(self.uow_factory, caller, vm_uuid, self.capabilities.guest_data)
        answer = self.runner.run(results.one_command(ReadGuestData(hostside.ref(vm), key)))
        return {"virtualmachineid": vm_uuid, "key": key, "value": answer.value}

    # ------------------------------------------------------------------ catalogue and accounts

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

    def list_zones(self, zone_uuid: str | None = None, name: str | None = None) -> list[Obj]:
        return listings.zones(self.uow_factory, zone_uuid, name)

    def list_domains(self, caller: Account, domain_uuid: str | None = None, name: str | None = None) -> list[Obj]:
        return listings.domains(self.uow_factory, caller, domain_uuid, name)

    def list_accounts(self, caller: Account, account_uuid: str | None = None, name: str | None = None) -> list[Obj]:
        return listings.account_list(self.uow_factory, caller, account_uuid, name)

    def list_users(self, caller: Account, keyword: str | None = None, **wanted: Any) -> list[Obj]:
        """listUsers (:func:`harness.service.listings.users`)."""
        return listings.users(self.uow_factory, caller, keyword, **wanted)

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
        account = accounts.open_account(
            self.uow_factory, caller, name, account_type, domain_uuid, password, firstname, lastname, email
        )
        with self.uow_factory(readonly=True) as uow:
            return views.account(uow, account)

    def create_offering(self, caller: Account, name: str, cpu: int, speed: int, ram: int) -> Obj:
        return views.offering(accounts.create_offering(self.uow_factory, caller, name, cpu, speed, ram))

    # ------------------------------------------------------------------ logins and keys

    def account_by_api_key(self, api_key: str) -> Account | None:
        """The account whose user holds ``api_key`` (the API then checks the signature)."""
        with self.uow_factory(readonly=True) as uow:
            return uow.accounts.by_api_key(api_key)

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
