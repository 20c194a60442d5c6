"""story fingerprints keep event evidence; stories can be merged by an operator

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 12:00:00

Fingerprints gain the headline's actions, the figures and dates mentioned, the names of the
text and whether the headline says it is a new occurrence; fingerprints stored before have none, which compares as no evidence. A story merged into
another keeps its row (``merged_into``) and its articles remember where they came from
(``merged_from``), so the merge can be undone.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('fingerprints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actions', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('figures', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('text_names', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('renewed', sa.Boolean(), nullable=True))
    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_stories_merged_into_stories'),
            'stories',
            ['merged_into'],
            ['id'],
            ondelete='SET NULL',
        )
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_from', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_articles_merged_from_stories'),
            'stories',
            ['merged_from'],
            ['id'],
            ondelete='SET NULL',
        )


def downgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_articles_merged_from_stories'), type_='foreignkey')
        batch_op.drop_column('merged_from')
    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_stories_merged_into_stories'), type_='foreignkey')
        batch_op.drop_column('merged_into')
    with op.batch_alter_table('fingerprints', schema=None) as batch_op:
        batch_op.drop_column('renewed')
        batch_op.drop_column('text_names')
        batch_op.drop_column('figures')
        batch_op.drop_column('actions')
