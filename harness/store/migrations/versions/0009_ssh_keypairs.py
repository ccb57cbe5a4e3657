"""SSH key pairs and user VM details: ``ssh_keypairs`` and ``user_vm_details``.

``registerSSHKeyPair`` keeps an account's public keys by name in ``ssh_keypairs``
(CloudStack's table); a VM deployed with a key pair records it in ``user_vm_details``
(``SSH.PublicKey``, ``SSH.KeyPairNames``), as CloudStack does, so every start gives the
host the keys again.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ssh_keypairs",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("uuid", sa.String(40), nullable=False, unique=True),
        sa.Column("account_id", Id, sa.ForeignKey("account.id"), nullable=False),
        sa.Column("domain_id", Id, sa.ForeignKey("domain.id"), nullable=False),
        sa.Column("keypair_name", sa.String(256), nullable=False),
        sa.Column("fingerprint", sa.String(128), nullable=False),
        sa.Column("public_key", sa.String(5120), nullable=False),
        sa.UniqueConstraint("account_id", "keypair_name", name="uc_ssh_keypairs__account_name"),
    )
    op.create_table(
        "user_vm_details",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("vm_id", Id, sa.ForeignKey("vm_instance.id"), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("value", sa.String(5120), nullable=False),
        sa.Column("display", sa.Boolean, nullable=False),
    )
    op.create_index("i_user_vm_details__vm_id", "user_vm_details", ["vm_id"])


def downgrade() -> None:
    op.drop_table("user_vm_details")
    op.drop_table("ssh_keypairs")
