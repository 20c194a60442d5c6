"""config state: the digest of the config's feed list the last sync applied

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 12:10:00

With it, a start whose config lists the same feeds as the last one skips the feed sync.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'config_state',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_config_state')),
    )


def downgrade() -> None:
    op.drop_table('config_state')
