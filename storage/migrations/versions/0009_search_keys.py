"""search keys: staff find cases by keyed hashes of names, units and questions

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Cases filed before have no keys yet: search reads those directly until the next
    # `union-bot keys reindex` (or `keys rotate`) writes them.
    op.create_table(
        "searchkey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("searchkey") as batch_op:
        batch_op.create_index("ix_searchkey_case_id", ["case_id"], unique=False)
        batch_op.create_index("ix_searchkey_digest_case", ["digest", "case_id"], unique=False)


def downgrade() -> None:
    op.drop_table("searchkey")
