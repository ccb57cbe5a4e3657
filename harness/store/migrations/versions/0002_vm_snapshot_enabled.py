"""The spec's DB change: ``hypervisor_capabilities.vm_snapshot_enabled``.

"Add a new column vm_snapshot_enabled in table hypervisor_capabilities ... Set
vm_snapshot_enabled = 1" (spec, "Enable/disable on a per hypervisor"). As in CloudStack
4.2 the column is tinyint(1) NOT NULL default 0; the spec enables it for Hyper-V, so rows
already there for hypervisor type ``Hyperv`` are switched on.

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_caps = sa.table(
    "hypervisor_capabilities",
    sa.column("hypervisor_type", sa.String),
    sa.column("vm_snapshot_enabled", sa.Boolean),
)


def upgrade() -> None:
    with op.batch_alter_table("hypervisor_capabilities") as batch:
        batch.add_column(
            sa.Column("vm_snapshot_enabled", sa.Boolean, nullable=False, server_default=sa.false())
        )
    op.execute(_caps.update().where(_caps.c.hypervisor_type == "Hyperv").values(vm_snapshot_enabled=True))


def downgrade() -> None:
    with op.batch_alter_table("hypervisor_capabilities") as batch:
        batch.drop_column("vm_snapshot_enabled")
