"""expired cases: a case with no activity for the keeping time is closed as expired

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite stores the status as text without a constraint: nothing to do there.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TYPE casestatus ADD VALUE IF NOT EXISTS 'EXPIRED' AFTER 'CLOSED'")


def downgrade() -> None:
    # The older code knows no expired case: they read as closed ones (PostgreSQL cannot drop
    # an enum value, so the type keeps it).
    op.execute("UPDATE \"case\" SET status = 'CLOSED' WHERE status = 'EXPIRED'")
