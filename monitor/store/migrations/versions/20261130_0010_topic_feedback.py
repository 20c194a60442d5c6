"""topic feedback: an operator's examples and counter-examples per topic

``monitor topics feedback`` stores them; the daemon and ``monitor classify`` add them to the
topic's own. No foreign key to the alert: a pruned alert leaves its feedback in force.
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'topic_feedback',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('topic', sa.String(length=100), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('alert_id', sa.String(length=36), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_topic_feedback')),
    )
    op.create_index(op.f('ix_topic_feedback_topic'), 'topic_feedback', ['topic'])


def downgrade() -> None:
    op.drop_index(op.f('ix_topic_feedback_topic'), table_name='topic_feedback')
    op.drop_table('topic_feedback')
