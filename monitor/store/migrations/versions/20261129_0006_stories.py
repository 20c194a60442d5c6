"""stories: articles grouped by event, their fingerprints, a lookup index and term counts

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 10:07:25.850270

Articles stored before this revision belong to no story; new articles are never grouped with
them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('stories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('article_count', sa.Integer(), nullable=False),
    sa.Column('source_count', sa.Integer(), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stories'))
    )
    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stories_first_seen_at'), ['first_seen_at'], unique=False)

    op.create_table('term_counts',
    sa.Column('term', sa.Text(), nullable=False),
    sa.Column('articles', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('term', name=op.f('pk_term_counts'))
    )
    op.create_table('story_topics',
    sa.Column('story_id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=100), nullable=False),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('alerted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notified_sources', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['story_id'], ['stories.id'], name=op.f('fk_story_topics_story_id_stories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('story_id', 'topic', name=op.f('pk_story_topics'))
    )
    op.create_table('fingerprints',
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('title_terms', sa.JSON(), nullable=False),
    sa.Column('terms', sa.JSON(), nullable=False),
    sa.Column('names', sa.JSON(), nullable=False),
    sa.Column('numbers', sa.JSON(), nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('similarity', sa.Double(), nullable=False),
    sa.Column('closest_article_id', sa.Integer(), nullable=True),
    sa.Column('shared', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_fingerprints_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['closest_article_id'], ['articles.id'], name=op.f('fk_fingerprints_closest_article_id_articles'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('article_id', name=op.f('pk_fingerprints'))
    )
    op.create_table('story_keys',
    sa.Column('key', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('article_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_story_keys_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key', 'at', 'article_id', name=op.f('pk_story_keys'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('story_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_alerts_story_id'), ['story_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_alerts_story_id_stories'), 'stories', ['story_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_title', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('story_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_articles_story_id'), ['story_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_articles_story_id_stories'), 'stories', ['story_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_articles_story_id_stories'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_articles_story_id'))
        batch_op.drop_column('story_id')
        batch_op.drop_column('source_title')

    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_alerts_story_id_stories'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_alerts_story_id'))
        batch_op.drop_column('story_id')

    op.drop_table('story_keys')
    op.drop_table('fingerprints')
    op.drop_table('story_topics')
    op.drop_table('term_counts')
    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stories_first_seen_at'))

    op.drop_table('stories')
