"""Initial schema: CloudStack's tables as hvsnap uses them (cloudstack.md §4).

Written out in full, not generated, so that a later change to ``tables.py`` needs its own
migration: a test compares the migrated schema with ``tables.metadata``.
``hypervisor_capabilities.vm_snapshot_enabled`` is not here; 0002 adds it (the spec's change).

Revision ID: 0001
Revises:
Create Date: 2025-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As tables.Id: CloudStack's bigint ids; SQLite only auto-increments INTEGER PRIMARY KEY.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column:
    return sa.Column("id", Id, primary_key=True, autoincrement=True)


def _uuid() -> sa.Column:
    return sa.Column("uuid", sa.String(40), nullable=False, unique=True)


def upgrade() -> None:
    op.create_table(
        "domain",
        _id(),
        _uuid(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("parent", Id, sa.ForeignKey("domain.id"), nullable=True),
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("created", sa.DateTime),
        sa.Column("removed", sa.DateTime),
    )
    op.create_table(
        "account",
        _id(),
        _uuid(),
        sa.Column("account_name", sa.String(100), nullable=False),
        sa.Column("type", sa.Integer, nullable=False),
        sa.Column("domain_id", Id, sa.ForeignKey("domain.id"), nullable=False),
        sa.Column("created", sa.DateTime),
        sa.Column("removed", sa.DateTime),
    )
    op.create_index("i_account__domain_id", "account", ["domain_id"])
    op.create_table(
        "user",
        _id(),
        _uuid(),
        sa.Column("username", sa.String(255), nullable=False),
        sa.Column("account_id", Id, sa.ForeignKey("account.id"), nullable=False),
        sa.Column("api_key", sa.String(255), unique=True),
        sa.Column("secret_key", sa.String(255)),
        sa.Column("created", sa.DateTime),
        sa.Column("removed", sa.DateTime),
    )
    op.create_table(
        "service_offering",
        _id(),
        _uuid(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("cpu", sa.Integer, nullable=False),
        sa.Column("speed", sa.Integer, nullable=False),
        sa.Column("ram_size", sa.Integer, nullable=False),
        sa.Column("created", sa.DateTime),
        sa.Column("removed", sa.DateTime),
    )
    op.create_table(
        "data_center",
        _id(),
        _uuid(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("removed", sa.DateTime),
    )
    op.create_table(
        "host",
        _id(),
        _uuid(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("data_center_id", Id, sa.ForeignKey("data_center.id"), nullable=False),
        sa.Column("hypervisor_type", sa.String(32), nullable=False),
        sa.Column("hypervisor_version", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("removed", sa.DateTime),
    )
    op.create_table(
        "hypervisor_capabilities",
        _id(),
        _uuid(),
        sa.Column("hypervisor_type", sa.String(32), nullable=False),
        sa.Column("hypervisor_version", sa.String(32), nullable=False),
        sa.Column("max_guests_limit", sa.BigInteger),
        sa.Column("security_group_enabled", sa.Boolean),
        sa.Column("max_data_volumes_limit", sa.Integer),
        sa.Column("max_hosts_per_cluster", sa.Integer),
        sa.Column("storage_motion_supported", sa.Boolean),
        sa.UniqueConstraint("hypervisor_type", "hypervisor_version", name="uc_hypervisor"),
    )
    op.create_table(
        "vm_instance",
        _id(),
        _uuid(),
        sa.Column("instance_name", sa.String(255), nullable=False),
        sa.Column("display_name", sa.String(255), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("account_id", Id, sa.ForeignKey("account.id"), nullable=False),
        sa.Column("domain_id", Id, sa.ForeignKey("domain.id"), nullable=False),
        sa.Column("service_offering_id", Id, sa.ForeignKey("service_offering.id"), nullable=False),
        sa.Column("data_center_id", Id, sa.ForeignKey("data_center.id"), nullable=False),
        sa.Column("host_id", Id, sa.ForeignKey("host.id")),
        sa.Column("update_count", sa.BigInteger, nullable=False),
        sa.Column("exported", sa.Boolean, nullable=False),
        sa.Column("created", sa.DateTime),
        sa.Column("updated", sa.DateTime),
        sa.Column("removed", sa.DateTime),
    )
    op.create_index("i_vm_instance__account_id", "vm_instance", ["account_id"])
    op.create_table(
        "volumes",
        _id(),
        _uuid(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("volume_type", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("account_id", Id, sa.ForeignKey("account.id"), nullable=False),
        sa.Column("domain_id", Id, sa.ForeignKey("domain.id"), nullable=False),
        sa.Column("instance_id", Id, sa.ForeignKey("vm_instance.id")),
        sa.Column("device_id", sa.Integer),
        sa.Column("path", sa.String(255)),
        sa.Column("chain_info", sa.Text),
        sa.Column("vm_snapshot_chain_size", sa.BigInteger, nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("created", sa.DateTime),
        sa.Column("removed", sa.DateTime),
    )
    op.create_index("i_volumes__instance_id", "volumes", ["instance_id"])
    op.create_table(
        "snapshots",
        _id(),
        _uuid(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("volume_id", Id, sa.ForeignKey("volumes.id"), nullable=False),
        sa.Column("account_id", Id, sa.ForeignKey("account.id"), nullable=False),
        sa.Column("domain_id", Id, sa.ForeignKey("domain.id"), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("update_count", sa.BigInteger, nullable=False),
        sa.Column("created", sa.DateTime),
        sa.Column("updated", sa.DateTime),
        sa.Column("removed", sa.DateTime),
    )
    op.create_index("i_snapshots__volume_id", "snapshots", ["volume_id"])
    op.create_table(
        "vm_snapshots",
        _id(),
        sa.Column("uuid", sa.String(40), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("display_name", sa.String(255)),
        sa.Column("description", sa.String(255)),
        sa.Column("vm_id", Id, sa.ForeignKey("vm_instance.id"), nullable=False),
        sa.Column("account_id", Id, sa.ForeignKey("account.id"), nullable=False),
        sa.Column("domain_id", Id, sa.ForeignKey("domain.id"), nullable=False),
        sa.Column("service_offering_id", Id, sa.ForeignKey("service_offering.id"), nullable=False),
        sa.Column("vm_snapshot_type", sa.String(32)),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("parent", Id),
        sa.Column("current", sa.Integer),
        sa.Column("update_count", sa.BigInteger, nullable=False),
        sa.Column("updated", sa.DateTime),
        sa.Column("created", sa.DateTime),
        sa.Column("removed", sa.DateTime),
        sa.UniqueConstraint("uuid", name="uc_vm_snapshots_uuid"),
    )
    for column in ("name", "display_name", "vm_id", "account_id", "parent", "removed"):
        op.create_index(f"vm_snapshots_{column}", "vm_snapshots", [column])
    op.create_table(
        "vm_snapshot_details",
        _id(),
        sa.Column("vm_snapshot_id", Id, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("value", sa.String(1024), nullable=False),
        sa.Column("display", sa.Boolean, nullable=False),
    )
    op.create_index("i_vm_snapshot_details__vm_snapshot_id", "vm_snapshot_details", ["vm_snapshot_id"])
    op.create_table(
        "async_job",
        _id(),
        _uuid(),
        sa.Column("user_id", Id),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("instance_type", sa.String(64)),
        sa.Column("instance_id", Id),
        sa.Column("job_cmd", sa.String(255), nullable=False),
        sa.Column("job_cmd_info", sa.Text),
        sa.Column("job_status", sa.Integer, nullable=False),
        sa.Column("job_process_status", sa.Integer, nullable=False),
        sa.Column("job_result_code", sa.Integer, nullable=False),
        sa.Column("job_result", sa.Text),
        sa.Column("created", sa.DateTime),
        sa.Column("last_updated", sa.DateTime),
        sa.Column("completed", sa.DateTime),
        sa.Column("removed", sa.DateTime),
    )
    op.create_index("i_async_job__instance", "async_job", ["instance_type", "instance_id"])
    op.create_index("i_async_job__account_id", "async_job", ["account_id"])
    op.create_table(
        "configuration",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("category", sa.String(255), nullable=False),
        sa.Column("value", sa.String(4096)),
        sa.Column("default_value", sa.String(4096)),
        sa.Column("description", sa.String(1024)),
    )


def downgrade() -> None:
    for table in (
        "configuration",
        "async_job",
        "vm_snapshot_details",
        "vm_snapshots",
        "snapshots",
        "volumes",
        "vm_instance",
        "hypervisor_capabilities",
        "host",
        "data_center",
        "service_offering",
        "user",
        "account",
        "domain",
    ):
        op.drop_table(table)
