"""Recurring VM snapshot policies (spec, "Use cases"): create, list, update,
delete, and the workflow of one scheduled run (snapshot, then retention).

Rules:

- at most one policy per VM (431), on a VM that exists, is the caller's to operate, and is
  not destroyed;
- the schedule fits the interval type and the time zone is an IANA name (431, saying what
  was expected; ``harness.domain.policy``);
- ``maxsnaps`` is at least 1 and at most the admin's ceiling for the interval type,
  ``vmsnapshot.max.<hourly|daily|weekly|monthly>`` (431: CloudStack's "maxSnaps exceeds
  limit" for volume snapshot policies);
- ``maxsnaps`` is below ``vmsnapshot.max`` (431): a run takes its snapshot *before* the oldest
  one goes, so a policy needs maxsnaps + 1 slots under the per-VM limit. A scheduled run is
  refused at ``vmsnapshot.max`` exactly like a manual create (530, CloudStack's semantics):
  it never deletes snapshots to make room;
- retention: after each scheduled snapshot, the policy's own live snapshots beyond
  ``maxsnaps`` are deleted, oldest first. Manual snapshots are never counted or pruned, and
  the snapshots of a deleted policy stay (unpruned), as CloudStack keeps a deleted volume
  snapshot policy's snapshots.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from harness.domain import config
from harness.domain.errors import CloudError, InvalidParameterValue
from harness.domain.model import Account
from harness.domain.policy import IntervalType, Schedule, VMSnapshotPolicy, interval_type
from harness.domain.states import DELETABLE_VM_SNAPSHOT_STATES, VMState
from harness.jobs.runners import Workflow
from harness.service import vmsnapshots
from harness.service.access import require, scope_of
from harness.store.ports import UnitOfWork, UowFactory

log = logging.getLogger("hvsnap.policies")
Obj = dict[str, Any]
GONE_VM_STATES = (VMState.Destroyed, VMState.Expunging)


def _check_maxsnaps(uow: UnitOfWork, kind: IntervalType, maxsnaps: int) -> None:
    key = config.POLICY_CEILINGS[kind.value]
    ceiling = int(config.parse(key, uow.config.get(key)))
    if maxsnaps < 1:
        raise InvalidParameterValue(f"Invalid maxsnaps {maxsnaps}: a policy keeps at least 1 snapshot")
    if maxsnaps > ceiling:
        raise InvalidParameterValue(
            f"maxSnaps exceeds limit: {ceiling} for interval type: {kind}. maxsnaps {maxsnaps} is above the "
            f"global ceiling {key.name}={ceiling} the administrator set"
        )
    per_vm = int(config.parse(config.VMSNAPSHOT_MAX, uow.config.get(config.VMSNAPSHOT_MAX)))
    if maxsnaps >= per_vm:
        raise InvalidParameterValue(
            f"maxsnaps {maxsnaps} leaves no room under {config.VMSNAPSHOT_MAX.name}={per_vm}: a scheduled run "
            f"takes its snapshot before the oldest is deleted, so maxsnaps must be below {per_vm}"
        )


def create(
    uow_factory: UowFactory,
    caller: Account,
    vm_uuid: str,
    intervaltype: str,
    schedule: str,
    timezone: str,
    maxsnaps: int,
    memory: bool = False,
    quiesce: bool = False,
) -> VMSnapshotPolicy:
    """createVMSnapshotPolicy: every rule, then the row, its first run computed."""
    sched = Schedule.parse(interval_type(intervaltype), schedule, timezone)
    with uow_factory() as uow:
        vm = require(uow.vms.get_by_uuid(vm_uuid), "Instance", vm_uuid, uow, caller)
        if vm.state in GONE_VM_STATES:
            raise InvalidParameterValue(f"Instance {vm_uuid} is {vm.state}; it can have no snapshot policy")
        existing = uow.vm_snapshot_policies.of_vm(vm.id)
        if existing is not None:
            raise InvalidParameterValue(
                f"Instance {vm_uuid} already has VM snapshot policy {existing.uuid}: one policy per Instance; "
                "update or delete it"
            )
        _check_maxsnaps(uow, sched.interval, maxsnaps)
        policy = uow.vm_snapshot_policies.add(
            VMSnapshotPolicy(
                id=0,
                uuid=str(uuid.uuid4()),
                vm_id=vm.id,
                account_id=vm.account_id,
                domain_id=vm.domain_id,
                interval=sched.interval,
                schedule=sched.text,
                timezone=timezone,
                max_snaps=maxsnaps,
                memory=memory,
                quiesce=quiesce,
                next_run=sched.next_after(uow.now),
            )
        )
        uow.commit()
    log.info(
        "policy %s created for %s: %s %s %s keep %d",
        policy.uuid,
        vm.instance_name,
        sched.interval,
        sched.text,
        timezone,
        maxsnaps,
    )
    return policy


def update(
    uow_factory: UowFactory,
    caller: Account,
    policy_uuid: str,
    intervaltype: str | None = None,
    schedule: str | None = None,
    timezone: str | None = None,
    maxsnaps: int | None = None,
    memory: bool | None = None,
    quiesce: bool | None = None,
) -> VMSnapshotPolicy:
    """updateVMSnapshotPolicy: change any field; the same rules as create. A new schedule
    (interval, schedule or zone) recomputes the next run from now. Lowering maxsnaps prunes
    at the policy's next run."""
    with uow_factory() as uow:
        policy = require(
            uow.vm_snapshot_policies.get_by_uuid(policy_uuid), "VM snapshot policy", policy_uuid, uow, caller
        )
        kind = interval_type(intervaltype) if intervaltype is not None else policy.interval
        if intervaltype is not None and schedule is None and kind != policy.interval:
            raise InvalidParameterValue(f"A new intervaltype {kind} needs its schedule too")
        sched = Schedule.parse(
            kind,
            schedule if schedule is not None else policy.schedule,
            timezone if timezone is not None else policy.timezone,
        )
        new_max = maxsnaps if maxsnaps is not None else policy.max_snaps
        _check_maxsnaps(uow, kind, new_max)
        rescheduled = (sched.interval, sched.text, sched.zone) != (policy.interval, policy.schedule, policy.timezone)
        policy.interval, policy.schedule, policy.timezone, policy.max_snaps = kind, sched.text, sched.zone, new_max
        if memory is not None:
            policy.memory = memory
        if quiesce is not None:
            policy.quiesce = quiesce
        if rescheduled:
            policy.next_run = sched.next_after(uow.now)
        uow.vm_snapshot_policies.save(policy)
        uow.commit()
    return policy


def delete(
    uow_factory: UowFactory, caller: Account, policy_uuids: list[str] | None = None, vm_uuid: str | None = None
) -> int:
    """deleteVMSnapshotPolicies: by ids (all or nothing), or the policy of a VM. The
    policies' snapshots stay. Returns how many went."""
    if not policy_uuids and vm_uuid is None:
        raise InvalidParameterValue("deleteVMSnapshotPolicies needs id, ids or virtualmachineid")
    with uow_factory() as uow:
        found: list[VMSnapshotPolicy] = []
        for one in dict.fromkeys(policy_uuids or []):
            found.append(require(uow.vm_snapshot_policies.get_by_uuid(one), "VM snapshot policy", one, uow, caller))
        if vm_uuid is not None:
            vm = require(uow.vms.get_by_uuid(vm_uuid), "Instance", vm_uuid, uow, caller)
            policy = uow.vm_snapshot_policies.of_vm(vm.id)
            if policy is None:
                raise InvalidParameterValue(f"Instance {vm_uuid} has no VM snapshot policy")
            found.append(policy)
        for policy in found:
            uow.vm_snapshot_policies.remove(policy.id)
        uow.commit()
    for policy in found:
        log.info("policy %s deleted; its snapshots stay", policy.uuid)
    return len(found)


def search(
    uow_factory: UowFactory, caller: Account, policy_uuid: str | None = None, vm_uuid: str | None = None
) -> list[Obj]:
    """listVMSnapshotPolicies: the policies the caller may see, as response objects."""
    with uow_factory(readonly=True) as uow:
        ids, vm_id = None, None
        if policy_uuid is not None:
            found = uow.vm_snapshot_policies.get_by_uuid(policy_uuid)
            ids = [found.id] if found else []
        if vm_uuid is not None:
            vm_id = require(uow.vms.get_by_uuid(vm_uuid), "Instance", vm_uuid, uow, caller).id
        return [view(uow, p) for p in uow.vm_snapshot_policies.search(scope_of(uow, caller), ids, vm_id)]


def view(uow: UnitOfWork, p: VMSnapshotPolicy) -> Obj:
    """The ``vmsnapshotpolicy`` response object (CloudStack's ``snapshotpolicy`` fields, for
    a VM, plus the options and run times)."""
    vm = uow.vms.get(p.vm_id)
    account = uow.accounts.get(p.account_id)
    domain = uow.domains.get(p.domain_id)
    kept = uow.vm_snapshot_policies.snapshots(p.id, p.vm_id)
    return {
        "id": p.uuid,
        "virtualmachineid": vm.uuid if vm else None,
        "virtualmachinename": vm.display_name if vm else None,
        "intervaltype": p.interval.value,
        "schedule": p.schedule,
        "timezone": p.timezone,
        "maxsnaps": p.max_snaps,
        "snapshotmemory": p.memory,
        "quiescevm": p.quiesce,
        "nextrun": _iso(p.next_run),
        "lastrun": _iso(p.last_run),
        "snapshots": len(kept),
        "account": account.name if account else None,
        "domainid": domain.uuid if domain else None,
        "domain": domain.name if domain else None,
        "created": _iso(p.created),
    }


def _iso(moment: Any) -> str | None:
    return None if moment is None else f"{moment:%Y-%m-%dT%H:%M:%S}+0000"


# --------------------------------------------------------------------------- one scheduled run


def run(uow_factory: UowFactory, policy_id: int, snapshot_id: int, quiesce: bool) -> Workflow[int]:
    """A scheduled run after its snapshot was allocated: take it, then apply retention.
    Returns how many old snapshots were deleted. A failed create raises (nothing is pruned);
    a failed prune is logged, and the next run prunes again."""
    yield from vmsnapshots.create(uow_factory, snapshot_id, quiesce)
    return (yield from prune(uow_factory, policy_id))


def prune(uow_factory: UowFactory, policy_id: int) -> Workflow[int]:
    """Delete the policy's oldest live snapshots beyond its ``maxsnaps``."""
    with uow_factory(readonly=True) as uow:
        policy = uow.vm_snapshot_policies.get(policy_id)
        if policy is None:
            return 0
        kept = uow.vm_snapshot_policies.snapshots(policy.id, policy.vm_id)
    excess = kept[: max(0, len(kept) - policy.max_snaps)]
    deleted = 0
    for snap in excess:
        if snap.state not in DELETABLE_VM_SNAPSHOT_STATES:
            log.warning("policy %s: snapshot %s is %s; pruned at a later run", policy.uuid, snap.name, snap.state)
            continue
        try:
            yield from vmsnapshots.delete(uow_factory, snap.id, expected=snap.state)
        except CloudError as err:
            log.warning("policy %s: pruning %s failed: %s", policy.uuid, snap.name, err.errortext)
            continue
        deleted += 1
        log.info("policy %s: pruned %s (keep %d)", policy.uuid, snap.name, policy.max_snaps)
    return deleted
