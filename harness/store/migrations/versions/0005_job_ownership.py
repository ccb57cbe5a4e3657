"""Jobs outlive their manager: which management server owns each job.

- ``mshost``: CloudStack's management server table: one row per manager process (``msid``),
  the machine and pid it runs as, ``Up``/``Down``, and the heartbeat (``last_update``);
- ``async_job.job_init_msid`` / ``job_executing_msid``: the manager that accepted a job and
  the one running it (a taker-over after a crash), and ``job_queue_key``: the VM whose serial
  queue the job runs in.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "mshost",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("msid", sa.BigInteger, nullable=False, unique=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("last_update", sa.DateTime),
    )
    with op.batch_alter_table("async_job") as batch:
        batch.add_column(sa.Column("job_init_msid", sa.BigInteger))
        batch.add_column(sa.Column("job_executing_msid", sa.BigInteger))
        batch.add_column(sa.Column("job_queue_key", sa.String(255)))
    op.create_index("i_async_job__status_msid", "async_job", ["job_status", "job_executing_msid"])


def downgrade() -> None:
    op.drop_index("i_async_job__status_msid", table_name="async_job")
    with op.batch_alter_table("async_job") as batch:
        batch.drop_column("job_queue_key")
        batch.drop_column("job_executing_msid")
        batch.drop_column("job_init_msid")
    op.drop_table("mshost")
