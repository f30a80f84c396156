"""encrypted columns: personal data is stored as ciphertext (storage.crypto)

The JSON columns that hold personal data become text (their values encrypted, as text); the
text columns stay text. Values written before are read as they are and encrypted by
`union-bot keys rotate`.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_COLUMNS = [
    ("member", "profile"),
    ("draft", "answers"),
    ("case", "answers"),
    ("caseevent", "detail"),
    ("inboxupdate", "payload"),
    ("outboxmessage", "reply_markup"),
]
TEXT_COLUMNS = [
    ("member", "pending_question"),
    ("draft", "last_answer"),
    ("case", "subject"),
    ("case", "member_label"),
    ("case", "rating_comment"),
    ("outboxmessage", "text"),
    ("attachment", "caption"),
    ("attachment", "file_name"),
    ("miss", "question"),
]


def upgrade() -> None:
    # SQLite stores JSON and strings as text already, and rebuilding a table to change its
    # declared type would trip over the foreign keys pointing at it: nothing to do there.
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in JSON_COLUMNS:
        op.alter_column(
            table,
            column,
            type_=sa.Text(),
            existing_type=sa.JSON(),
            postgresql_using=f"{column}::text",
        )
    for table, column in TEXT_COLUMNS:
        op.alter_column(table, column, type_=sa.Text(), existing_type=sa.String())


def downgrade() -> None:
    # Encrypted values are not JSON: decrypt them (a build before 0007 cannot) first.
    raise NotImplementedError("the data is encrypted: restore the backup taken before 0007")
