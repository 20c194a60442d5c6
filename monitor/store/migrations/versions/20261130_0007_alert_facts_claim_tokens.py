"""alerts keep facts, not rendered payloads; claims carry a token; attempt numbers are unique

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 11:40:00

Rows queued before this revision keep the payload they were queued with and are sent as they
are. Attempt numbers that a race repeated are renumbered in time order before the constraint.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reasons', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('digest_match_ids', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('claim_token', sa.String(length=36), nullable=True))
        batch_op.alter_column('payload', existing_type=sa.JSON(), nullable=True)

    op.execute(
        "UPDATE attempts SET number = (SELECT COUNT(*) FROM attempts AS earlier"
        " WHERE earlier.alert_id = attempts.alert_id"
        " AND (earlier.at < attempts.at OR (earlier.at = attempts.at AND earlier.id <= attempts.id)))"
    )
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f('uq_attempts_alert_id_number'), ['alert_id', 'number']
        )


def downgrade() -> None:
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_attempts_alert_id_number'), type_='unique')

    unrendered = op.get_bind().scalar(sa.text("SELECT COUNT(*) FROM alerts WHERE payload IS NULL"))
    if unrendered:
        raise RuntimeError(
            f"{unrendered} alerts keep facts, not payloads, which the older schema cannot hold;"
            " deliver or prune them before downgrading"
        )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.alter_column('payload', existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column('claim_token')
        batch_op.drop_column('digest_match_ids')
        batch_op.drop_column('reasons')
