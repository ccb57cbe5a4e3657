"""Recurring VM snapshot policies, their snapshots, and resource limits.

- ``vm_snapshot_policy``: one row per VM with a policy (``vm_id`` unique), its schedule in
  CloudStack's format, the time zone, ``max_snaps`` and the next and last run (UTC);
- ``vm_snapshot_policy_ref``: which ``vm_snapshots`` rows a policy run created, so that
  scheduled snapshots are told apart from manual ones;
- ``resource_limit``: CloudStack's table, holding the ``vmsnapshot`` limits of accounts and
  domains.

Revision ID: 0004
Revises: 0003
Create Date: 2025-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "vm_snapshot_policy",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("uuid", sa.String(40), nullable=False, unique=True),
        sa.Column("vm_id", Id, sa.ForeignKey("vm_instance.id"), nullable=False, unique=True),
        sa.Column("account_id", Id, sa.ForeignKey("account.id"), nullable=False),
        sa.Column("domain_id", Id, sa.ForeignKey("domain.id"), nullable=False),
        sa.Column("interval_type", sa.String(16), nullable=False),
        sa.Column("schedule", sa.String(100), nullable=False),
        sa.Column("timezone", sa.String(100), nullable=False),
        sa.Column("max_snaps", sa.Integer, nullable=False),
        sa.Column("snapshot_memory", sa.Boolean, nullable=False),
        sa.Column("quiesce_vm", sa.Boolean, nullable=False),
        sa.Column("next_run", sa.DateTime),
        sa.Column("last_run", sa.DateTime),
        sa.Column("created", sa.DateTime),
    )
    op.create_index("i_vm_snapshot_policy__next_run", "vm_snapshot_policy", ["next_run"])
    op.create_index("i_vm_snapshot_policy__account_id", "vm_snapshot_policy", ["account_id"])
    op.create_table(
        "vm_snapshot_policy_ref",
        sa.Column("vm_snapshot_id", Id, sa.ForeignKey("vm_snapshots.id"), primary_key=True, autoincrement=False),
        sa.Column("policy_id", Id, nullable=False),
        sa.Column("vm_id", Id, nullable=False),
    )
    op.create_index("i_vm_snapshot_policy_ref__policy_id", "vm_snapshot_policy_ref", ["policy_id"])
    op.create_table(
        "resource_limit",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("type", sa.String(255), nullable=False),
        sa.Column("account_id", Id, sa.ForeignKey("account.id")),
        sa.Column("domain_id", Id, sa.ForeignKey("domain.id")),
        sa.Column("max", sa.BigInteger, nullable=False),
    )
    op.create_index("i_resource_limit__account_id", "resource_limit", ["account_id"])
    op.create_index("i_resource_limit__domain_id", "resource_limit", ["domain_id"])


def downgrade() -> None:
    op.drop_table("resource_limit")
    op.drop_table("vm_snapshot_policy_ref")
    op.drop_table("vm_snapshot_policy")
