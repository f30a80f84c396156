"""staff roster and case handling

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RATING = sa.Enum("SATISFIED", "FAIR", "UNSATISFIED", name="rating")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # A new status in PostgreSQL's enum type; new enum types are created before use.
        op.execute("ALTER TYPE casestatus ADD VALUE IF NOT EXISTS 'IN_PROGRESS' AFTER 'ACCEPTED'")
        RATING.create(bind, checkfirst=True)
    op.create_table(
        "staffmember",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("department", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("role", sa.Enum("HANDLER", "LEAD", "ADMIN", name="staffrole"), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("telegram_id"),
    )
    op.create_table(
        "staffprompt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("staff_telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chat_id", "message_id"),
    )
    with op.batch_alter_table("staffprompt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staffprompt_case_id"), ["case_id"], unique=False)

    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.alter_column("draft_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.add_column(
            sa.Column("caption", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )

    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("card_message_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("member_label", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("card_held", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("assignee_telegram_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("accepted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("due_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("waiting_since", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("talked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("rating", RATING, nullable=True))
        batch_op.add_column(
            sa.Column("rating_comment", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("rated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )

    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("awaiting_comment_case", sa.Integer(), nullable=True))

    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("card", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("edit_message_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("protect", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    # Cases filed before: their card is the first message sent for them in their staff chat,
    # and a consultation was last talked about when it last changed (an application was not
    # talked about: the member's texts are questions for the bot).
    op.execute(
        """
        UPDATE "case" SET card_message_id = (
            SELECT MIN(casemessage.message_id) FROM casemessage
            WHERE casemessage.case_id = "case".id AND casemessage.chat_id = "case".staff_chat_id
        )
        """
    )
    op.execute("""UPDATE "case" SET talked_at = updated_at WHERE kind = 'CONSULTATION'""")


def downgrade() -> None:
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.drop_column("protect")
        batch_op.drop_column("edit_message_id")
        batch_op.drop_column("card")

    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("awaiting_comment_case")

    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_column("rated_at")
        batch_op.drop_column("rating_comment")
        batch_op.drop_column("rating")
        batch_op.drop_column("talked_at")
        batch_op.drop_column("waiting_since")
        batch_op.drop_column("due_at")
        batch_op.drop_column("accepted_at")
        batch_op.drop_column("assignee_telegram_id")
        batch_op.drop_column("card_held")
        batch_op.drop_column("member_label")
        batch_op.drop_column("card_message_id")
        batch_op.drop_column("version")

    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_column("caption")
        batch_op.alter_column("draft_id", existing_type=sa.INTEGER(), nullable=False)

    with op.batch_alter_table("staffprompt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staffprompt_case_id"))

    op.drop_table("staffprompt")
    op.drop_table("staffmember")
    if op.get_bind().dialect.name == "postgresql":
        RATING.drop(op.get_bind(), checkfirst=True)
