"""alerts of one status, newest first, from one index

The console and the API list the alerts of one status (``?status=delivered``) newest first.
With only an index on the status (for the delivery queue) and one on the creation time,
SQLite chose the status and joined and sorted every alert of it (16,000 delivered alerts:
150 ms); this index reads the page directly on both databases.
"""

from __future__ import annotations

from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_alerts_status_created_at_id', 'alerts', ['status', 'created_at', 'id'])


def downgrade() -> None:
    op.drop_index('ix_alerts_status_created_at_id', table_name='alerts')
