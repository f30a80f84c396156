"""Issue 11 §3: every message a member sends asks who they are and which form they are filling
in; both come from one statement, and what the unit of work writes afterwards is seen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event

from storage.cases import active_draft, touch_member
from storage.db import make_engine, session_scope
from storage.models import Draft, DraftStage


def _counting(engine: Any) -> list[str]:
    statements: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    return statements


def test_the_members_unfinished_draft_is_read_with_the_member(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    with session_scope(engine) as session:
        member = touch_member(session=session, telegram_id=710001, chat_id=710001)
        session.add(Draft(member_id=member.id, form_id="old", stage=DraftStage.SUBMITTED))
        session.add(Draft(member_id=member.id, form_id="service_card", stage=DraftStage.FILLING))
        session.add(Draft(member_id=member.id, form_id="later", stage=DraftStage.DISCARDED))
    statements = _counting(engine)
    with session_scope(engine) as session:
        member = touch_member(session=session, telegram_id=710001, chat_id=710001)
        read = len(statements)
        draft = active_draft(session=session, member=member)
        assert draft is not None and draft.form_id == "service_card"
        assert len(statements) == read  # read with the member: no second statement
        draft.stage = DraftStage.DISCARDED
        session.add(Draft(member_id=member.id, form_id="hardship_aid"))
        session.flush()
        again = active_draft(session=session, member=member)
        assert again is not None and again.form_id == "hardship_aid"  # written since: read
    with session_scope(engine) as session:
        stranger = touch_member(session=session, telegram_id=710002, chat_id=710002)
        assert active_draft(session=session, member=stranger) is None
