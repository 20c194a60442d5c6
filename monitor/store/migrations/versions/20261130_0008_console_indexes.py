"""console indexes: alerts newest first, and stories by when they alerted

The console and the API list alerts by creation time and the Atom feeds list stories by when
they alerted; without these indexes every page sorted the whole outbox.
"""

from __future__ import annotations

from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_alerts_created_at_id', 'alerts', ['created_at', 'id'])
    op.create_index('ix_story_topics_alerted_at', 'story_topics', ['alerted_at'])


def downgrade() -> None:
    op.drop_index('ix_story_topics_alerted_at', table_name='story_topics')
    op.drop_index('ix_alerts_created_at_id', table_name='alerts')
