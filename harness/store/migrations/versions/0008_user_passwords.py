"""User passwords for the console's ``login``: ``user.password``.

CloudStack keeps a user's password hash in ``user.password``; here it holds a salted
PBKDF2 hash (``harness.service.passwords``), never the password. Existing users get NULL:
they cannot log in until a password is set (``hvsnap init`` sets the admin's,
``hvsnap account password`` or ``updateUser`` any user's).

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("password", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.drop_column("password")
