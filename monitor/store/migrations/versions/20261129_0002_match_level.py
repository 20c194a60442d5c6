"""matches record their level and the rules that fired

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("matches", schema=None) as batch_op:
        # Matches stored before levels existed all alerted.
        batch_op.add_column(
            sa.Column("level", sa.String(length=8), nullable=False, server_default="alert")
        )
        batch_op.add_column(sa.Column("rules", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.drop_column("rules")
        batch_op.drop_column("level")
