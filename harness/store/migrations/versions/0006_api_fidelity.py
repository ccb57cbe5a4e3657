"""API fidelity: NICs, resource tags, the event log, and users' names.

- ``nics``: one default NIC per VM on the zone's guest network; ``ip4_address`` is unique
  while set and cleared when the VM is expunged;
- ``resource_tags``: keys and values on VMs and VM snapshots (one key per resource);
- ``event``: CloudStack's event log (type, state, level, description, owner);
- ``vm_instance``: ``template_uuid``, the catalogue template a VM was deployed from;
- ``user``: ``firstname``, ``lastname``, ``email`` and ``state``, as createAccount takes them.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("vm_instance") as batch:
        batch.add_column(sa.Column("template_uuid", sa.String(40)))
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("firstname", sa.String(255)))
        batch.add_column(sa.Column("lastname", sa.String(255)))
        batch.add_column(sa.Column("email", sa.String(255)))
        batch.add_column(sa.Column("state", sa.String(32), nullable=False, server_default="enabled"))
    op.create_table(
        "nics",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("uuid", sa.String(40), nullable=False, unique=True),
        sa.Column("instance_id", Id, sa.ForeignKey("vm_instance.id"), nullable=False),
        sa.Column("ip4_address", sa.String(40), unique=True),
        sa.Column("netmask", sa.String(40), nullable=False),
        sa.Column("gateway", sa.String(40), nullable=False),
        sa.Column("mac_address", sa.String(17), nullable=False),
        sa.Column("device_id", sa.Integer, nullable=False),
        sa.Column("default_nic", sa.Boolean, nullable=False),
        sa.Column("created", sa.DateTime),
        sa.Column("removed", sa.DateTime),
    )
    op.create_index("i_nics__instance_id", "nics", ["instance_id"])
    op.create_table(
        "resource_tags",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("uuid", sa.String(40), nullable=False, unique=True),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.Column("resource_id", Id, nullable=False),
        sa.Column("resource_uuid", sa.String(255), nullable=False),
        sa.Column("resource_type", sa.String(255), nullable=False),
        sa.Column("customer", sa.String(255)),
        sa.Column("account_id", Id, sa.ForeignKey("account.id"), nullable=False),
        sa.Column("domain_id", Id, sa.ForeignKey("domain.id"), nullable=False),
        sa.UniqueConstraint("resource_id", "resource_type", "key", name="uc_resource_tags__resource_key"),
    )
    op.create_index("i_resource_tags__resource", "resource_tags", ["resource_type", "resource_id"])
    op.create_index("i_resource_tags__account_id", "resource_tags", ["account_id"])
    op.create_table(
        "event",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("uuid", sa.String(40), nullable=False, unique=True),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("description", sa.String(1024), nullable=False),
        sa.Column("user_id", Id),
        sa.Column("account_id", Id, sa.ForeignKey("account.id"), nullable=False),
        sa.Column("domain_id", Id, sa.ForeignKey("domain.id"), nullable=False),
        sa.Column("resource_type", sa.String(32)),
        sa.Column("resource_id", Id),
        sa.Column("resource_uuid", sa.String(40)),
        sa.Column("start_id", Id, nullable=False),
        sa.Column("created", sa.DateTime),
    )
    op.create_index("i_event__created", "event", ["created"])
    op.create_index("i_event__account_id", "event", ["account_id"])


def downgrade() -> None:
    op.drop_table("event")
    op.drop_table("resource_tags")
    op.drop_table("nics")
    with op.batch_alter_table("user") as batch:
        batch.drop_column("state")
        batch.drop_column("email")
        batch.drop_column("lastname")
        batch.drop_column("firstname")
    with op.batch_alter_table("vm_instance") as batch:
        batch.drop_column("template_uuid")
