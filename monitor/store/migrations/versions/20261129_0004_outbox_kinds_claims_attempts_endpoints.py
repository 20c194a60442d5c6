"""outbox: kinds, claims, attempts, endpoints

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 09:48:03.986086
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('endpoints',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('disabled_reason', sa.Text(), nullable=True),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('digest_after_match_id', sa.Integer(), nullable=False, server_default='0'),
    sa.Column('last_digest_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_endpoints'))
    )
    op.create_table('attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_attempts_alert_id_alerts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attempts'))
    )
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attempts_alert_id'), ['alert_id'], unique=False)

    with op.batch_alter_table('alerts', schema=None) as batch_op:
        # Every row before this revision was an article alert.
        batch_op.add_column(
            sa.Column(
                'kind', sa.String(length=32), nullable=False, server_default='article.matched'
            )
        )
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('article_id', existing_type=sa.INTEGER(), nullable=True)



def downgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.alter_column('article_id', existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('kind')

    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attempts_alert_id'))

    op.drop_table('attempts')
    op.drop_table('endpoints')
