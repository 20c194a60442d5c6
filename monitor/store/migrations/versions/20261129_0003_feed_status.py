"""feed status: moved address, learned interval, RSS ttl, last HTTP status, why disabled, refusals

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch_alter_table: SQLite cannot add a NOT NULL column with ALTER TABLE alone.
    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fetch_url', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('poll_interval_seconds', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('ttl_seconds', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('last_status', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('disabled_reason', sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column('refusal_count', sa.Integer(), nullable=False, server_default='0')
        )


def downgrade() -> None:
    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.drop_column('refusal_count')
        batch_op.drop_column('disabled_reason')
        batch_op.drop_column('last_status')
        batch_op.drop_column('ttl_seconds')
        batch_op.drop_column('poll_interval_seconds')
        batch_op.drop_column('fetch_url')
