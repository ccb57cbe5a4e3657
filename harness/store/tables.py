"""SQLAlchemy Core tables, named and shaped after CloudStack's schema (cloudstack.md §4).

Rows are soft-deleted through ``removed``; stateful rows carry ``update_count`` for the
compare-and-swap transitions. The schema is built by the Alembic migrations in
``harness/store/migrations``; this module is what the code reads and writes, and a test
checks that the two agree.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData()

# SQLite only auto-increments INTEGER PRIMARY KEY; BigInteger elsewhere, as CloudStack's bigint.
Id = BigInteger().with_variant(Integer(), "sqlite")


def _id() -> Column:
    return Column("id", Id, primary_key=True, autoincrement=True)


def _uuid() -> Column:
    return Column("uuid", String(40), nullable=False, unique=True)


domain = Table(
    "domain",
    metadata,
    _id(),
    _uuid(),
    Column("name", String(255), nullable=False),
    Column("parent", Id, ForeignKey("domain.id"), nullable=True),
    Column("path", String(255), nullable=False),
    Column("created", DateTime),
    Column("removed", DateTime),
)

account = Table(
    "account",
    metadata,
    _id(),
    _uuid(),
    Column("account_name", String(100), nullable=False),
    Column("type", Integer, nullable=False),
    Column("domain_id", Id, ForeignKey("domain.id"), nullable=False),
    Column("created", DateTime),
    Column("removed", DateTime),
    Index("i_account__domain_id", "domain_id"),
)

user = Table(
    "user",
    metadata,
    _id(),
    _uuid(),
    Column("username", String(255), nullable=False),
    Column("account_id", Id, ForeignKey("account.id"), nullable=False),
    Column("api_key", String(255), unique=True),
    Column("secret_key", String(255)),
    # migration 0006: what createAccount records of its user
    Column("firstname", String(255)),
    Column("lastname", String(255)),
    Column("email", String(255)),
    Column("state", String(32), nullable=False, default="enabled", server_default="enabled"),
    Column("password", String(255)),  # a salted hash (harness.service.passwords), never the password
    Column("created", DateTime),
    Column("removed", DateTime),
)

service_offering = Table(
    "service_offering",
    metadata,
    _id(),
    _uuid(),
    Column("name", String(255), nullable=False),
    Column("cpu", Integer, nullable=False),
    Column("speed", Integer, nullable=False),
    Column("ram_size", Integer, nullable=False),
    Column("created", DateTime),
    Column("removed", DateTime),
)

data_center = Table(
    "data_center",
    metadata,
    _id(),
    _uuid(),
    Column("name", String(255), nullable=False),
    Column("removed", DateTime),
)

host = Table(
    "host",
    metadata,
    _id(),
    _uuid(),
    Column("name", String(255), nullable=False),
    Column("data_center_id", Id, ForeignKey("data_center.id"), nullable=False),
    Column("hypervisor_type", String(32), nullable=False),
    Column("hypervisor_version", String(32), nullable=False),
    Column("status", String(32), nullable=False, default="Up"),
    Column("removed", DateTime),
)

hypervisor_capabilities = Table(
    "hypervisor_capabilities",
    metadata,
    _id(),
    _uuid(),
    Column("hypervisor_type", String(32), nullable=False),
    Column("hypervisor_version", String(32), nullable=False),
    Column("max_guests_limit", BigInteger, default=50),
    Column("security_group_enabled", Boolean, default=False),
    Column("max_data_volumes_limit", Integer, default=6),
    Column("max_hosts_per_cluster", Integer),
    Column("storage_motion_supported", Boolean, default=False),
    # The spec's DB change (migration 0002): enable/disable VM snapshots per hypervisor.
    Column("vm_snapshot_enabled", Boolean, nullable=False, default=False, server_default=false()),
    UniqueConstraint("hypervisor_type", "hypervisor_version", name="uc_hypervisor"),
)

vm_instance = Table(
    "vm_instance",
    metadata,
    _id(),
    _uuid(),
    Column("instance_name", String(255), nullable=False),
    Column("display_name", String(255), nullable=False),
    Column("state", String(32), nullable=False),
    Column("account_id", Id, ForeignKey("account.id"), nullable=False),
    Column("domain_id", Id, ForeignKey("domain.id"), nullable=False),
    Column("service_offering_id", Id, ForeignKey("service_offering.id"), nullable=False),
    Column("data_center_id", Id, ForeignKey("data_center.id"), nullable=False),
    Column("host_id", Id, ForeignKey("host.id")),
    Column("update_count", BigInteger, nullable=False, default=0),
    # hvsnap: the host holds an export of this VM, so a start imports it (checkpoints and all).
    Column("exported", Boolean, nullable=False, default=False),
    # migration 0006: the catalogue template the VM was deployed from
    Column("template_uuid", String(40)),
    Column("created", DateTime),
    Column("updated", DateTime),
    Column("removed", DateTime),
    Index("i_vm_instance__account_id", "account_id"),
)

volumes = Table(
    "volumes",
    metadata,
    _id(),
    _uuid(),
    Column("name", String(255), nullable=False),
    Column("volume_type", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("account_id", Id, ForeignKey("account.id"), nullable=False),
    Column("domain_id", Id, ForeignKey("domain.id"), nullable=False),
    Column("instance_id", Id, ForeignKey("vm_instance.id")),
    Column("device_id", Integer),
    Column("path", String(255)),
    Column("chain_info", Text),
    Column("vm_snapshot_chain_size", BigInteger, nullable=False, default=0),
    Column("state", String(32), nullable=False),
    Column("created", DateTime),
    Column("removed", DateTime),
    Index("i_volumes__instance_id", "instance_id"),
)

snapshots = Table(
    "snapshots",
    metadata,
    _id(),
    _uuid(),
    Column("name", String(255), nullable=False),
    Column("volume_id", Id, ForeignKey("volumes.id"), nullable=False),
    Column("account_id", Id, ForeignKey("account.id"), nullable=False),
    Column("domain_id", Id, ForeignKey("domain.id"), nullable=False),
    Column("status", String(32), nullable=False),
    Column("size", BigInteger, nullable=False, default=0),
    Column("update_count", BigInteger, nullable=False, default=0),
    Column("created", DateTime),
    Column("updated", DateTime),
    Column("removed", DateTime),
    Index("i_snapshots__volume_id", "volume_id"),
)

vm_snapshots = Table(
    "vm_snapshots",
    metadata,
    _id(),
    Column("uuid", String(40), nullable=False),
    Column("name", String(255), nullable=False),
    Column("display_name", String(255)),
    Column("description", String(255)),
    Column("vm_id", Id, ForeignKey("vm_instance.id"), nullable=False),
    Column("account_id", Id, ForeignKey("account.id"), nullable=False),
    Column("domain_id", Id, ForeignKey("domain.id"), nullable=False),
    Column("service_offering_id", Id, ForeignKey("service_offering.id"), nullable=False),
    Column("vm_snapshot_type", String(32)),
    Column("state", String(32), nullable=False),
    Column("parent", Id),
    Column("current", Integer),
    Column("update_count", BigInteger, nullable=False, default=0),
    Column("updated", DateTime),
    Column("created", DateTime),
    Column("removed", DateTime),
    UniqueConstraint("uuid", name="uc_vm_snapshots_uuid"),
    Index("vm_snapshots_name", "name"),
    Index("vm_snapshots_display_name", "display_name"),
    Index("vm_snapshots_vm_id", "vm_id"),
    Index("vm_snapshots_account_id", "account_id"),
    Index("vm_snapshots_parent", "parent"),
    Index("vm_snapshots_removed", "removed"),
    Index("vm_snapshots_listing", "removed", "created", "id", "state"),
    Index("vm_snapshots_live_state", "removed", "state"),
)

vm_snapshot_details = Table(
    "vm_snapshot_details",
    metadata,
    _id(),
    Column("vm_snapshot_id", Id, nullable=False),
    Column("name", String(255), nullable=False),
    Column("value", String(1024), nullable=False),
    Column("display", Boolean, nullable=False, default=True),
    Index("i_vm_snapshot_details__vm_snapshot_id", "vm_snapshot_id"),
)

async_job = Table(
    "async_job",
    metadata,
    _id(),
    _uuid(),
    Column("user_id", Id),
    Column("account_id", Id, nullable=False),
    Column("instance_type", String(64)),
    Column("instance_id", Id),
    Column("job_cmd", String(255), nullable=False),
    Column("job_cmd_info", Text),
    Column("job_status", Integer, nullable=False, default=0),
    Column("job_process_status", Integer, nullable=False, default=0),
    Column("job_result_code", Integer, nullable=False, default=0),
    Column("job_result", Text),
    Column("created", DateTime),
    Column("last_updated", DateTime),
    Column("completed", DateTime),
    Column("removed", DateTime),
    # Migration 0005: which management server accepted and which runs the job,
    # and the per-VM queue it runs in (CloudStack's job_init_msid, job_executing_msid and
    # vm_work_job's VM).
    Column("job_init_msid", BigInteger),
    Column("job_executing_msid", BigInteger),
    Column("job_queue_key", String(255)),
    Index("i_async_job__instance", "instance_type", "instance_id"),
    Index("i_async_job__account_id", "account_id"),
    Index("i_async_job__status_msid", "job_status", "job_executing_msid"),
)

# Migration 0005: CloudStack's management server table; a live manager updates
# ``last_update`` every cluster.heartbeat.interval.
mshost = Table(
    "mshost",
    metadata,
    _id(),
    Column("msid", BigInteger, nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("state", String(10), nullable=False),
    Column("last_update", DateTime),
)

configuration = Table(
    "configuration",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("category", String(255), nullable=False, default="Advanced"),
    Column("value", String(4096)),
    Column("default_value", String(4096)),
    Column("description", String(1024)),
)

# Migration 0004: recurring VM snapshot policies, which snapshot each one took, and
# CloudStack's resource_limit rows for the ``vmsnapshot`` resource type.

vm_snapshot_policy = Table(
    "vm_snapshot_policy",
    metadata,
    _id(),
    _uuid(),
    # One policy per VM, enforced by the database too (two managers may share it); a
    # deleted policy's row is deleted, as CloudStack deletes snapshot_policy rows.
    Column("vm_id", Id, ForeignKey("vm_instance.id"), nullable=False, unique=True),
    Column("account_id", Id, ForeignKey("account.id"), nullable=False),
    Column("domain_id", Id, ForeignKey("domain.id"), nullable=False),
    Column("interval_type", String(16), nullable=False),
    Column("schedule", String(100), nullable=False),
    Column("timezone", String(100), nullable=False),
    Column("max_snaps", Integer, nullable=False),
    Column("snapshot_memory", Boolean, nullable=False, default=False),
    Column("quiesce_vm", Boolean, nullable=False, default=False),
    Column("next_run", DateTime),
    Column("last_run", DateTime),
    Column("created", DateTime),
    Index("i_vm_snapshot_policy__next_run", "next_run"),
    Index("i_vm_snapshot_policy__account_id", "account_id"),
)

# A scheduled snapshot: the vm_snapshots row a policy run created. Manual snapshots have no
# row here, so retention never counts or prunes them. ``policy_id`` is kept without a foreign
# key: the snapshots of a deleted policy stay, unpruned.
vm_snapshot_policy_ref = Table(
    "vm_snapshot_policy_ref",
    metadata,
    Column("vm_snapshot_id", Id, ForeignKey("vm_snapshots.id"), primary_key=True, autoincrement=False),
    Column("policy_id", Id, nullable=False),
    Column("vm_id", Id, nullable=False),
    Index("i_vm_snapshot_policy_ref__policy_id", "policy_id"),
)

resource_limit = Table(
    "resource_limit",
    metadata,
    _id(),
    Column("type", String(255), nullable=False),
    Column("account_id", Id, ForeignKey("account.id")),
    Column("domain_id", Id, ForeignKey("domain.id")),
    Column("max", BigInteger, nullable=False, default=-1),
    Index("i_resource_limit__account_id", "account_id"),
    Index("i_resource_limit__domain_id", "domain_id"),
)

# Migration 0006 (API fidelity): VMs' NICs on the zone's guest network, resource tags on VMs
# and VM snapshots, and CloudStack's event log.

nics = Table(
    "nics",
    metadata,
    _id(),
    _uuid(),
    Column("instance_id", Id, ForeignKey("vm_instance.id"), nullable=False),
    # NULL once released: the live addresses are unique, enforced by the database too
    Column("ip4_address", String(40), unique=True),
    Column("netmask", String(40), nullable=False),
    Column("gateway", String(40), nullable=False),
    Column("mac_address", String(17), nullable=False),
    Column("device_id", Integer, nullable=False, default=0),
    Column("default_nic", Boolean, nullable=False, default=True),
    Column("created", DateTime),
    Column("removed", DateTime),
    Index("i_nics__instance_id", "instance_id"),
)

# migration 0009: SSH key pairs and the details of user VMs
ssh_keypairs = Table(
    "ssh_keypairs",
    metadata,
    _id(),
    _uuid(),
    Column("account_id", Id, ForeignKey("account.id"), nullable=False),
    Column("domain_id", Id, ForeignKey("domain.id"), nullable=False),
    Column("keypair_name", String(256), nullable=False),
    Column("fingerprint", String(128), nullable=False),
    Column("public_key", String(5120), nullable=False),
    UniqueConstraint("account_id", "keypair_name", name="uc_ssh_keypairs__account_name"),
)

user_vm_details = Table(
    "user_vm_details",
    metadata,
    _id(),
    Column("vm_id", Id, ForeignKey("vm_instance.id"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("value", String(5120), nullable=False),
    Column("display", Boolean, nullable=False, default=True),
    Index("i_user_vm_details__vm_id", "vm_id"),
)

resource_tags = Table(
    "resource_tags",
    metadata,
    _id(),
    _uuid(),
    Column("key", String(255), nullable=False),
    Column("value", String(255), nullable=False),
    Column("resource_id", Id, nullable=False),
    Column("resource_uuid", String(255), nullable=False),
    Column("resource_type", String(255), nullable=False),
    Column("customer", String(255)),
    Column("account_id", Id, ForeignKey("account.id"), nullable=False),
    Column("domain_id", Id, ForeignKey("domain.id"), nullable=False),
    UniqueConstraint("resource_id", "resource_type", "key", name="uc_resource_tags__resource_key"),
    Index("i_resource_tags__resource", "resource_type", "resource_id"),
    Index("i_resource_tags__account_id", "account_id"),
)

event = Table(
    "event",
    metadata,
    _id(),
    _uuid(),
    Column("type", String(32), nullable=False),
    Column("state", String(32), nullable=False),
    Column("level", String(16), nullable=False),
    Column("description", String(1024), nullable=False),
    Column("user_id", Id),
    Column("account_id", Id, ForeignKey("account.id"), nullable=False),
    Column("domain_id", Id, ForeignKey("domain.id"), nullable=False),
    Column("resource_type", String(32)),
    Column("resource_id", Id),
    Column("resource_uuid", String(40)),
    Column("start_id", Id, nullable=False, default=0),
    Column("created", DateTime),
    Index("i_event__created", "created"),
    Index("i_event__account_id", "account_id"),
)
