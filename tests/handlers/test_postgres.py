"""The bot on PostgreSQL, the production database: migrations, forms, handoff, idempotency."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlmodel import Session, select

from storage.migrate import current, revisions
from storage.models import Case, CaseStatus, Draft, DraftStage
from tests.handlers.conftest import RIGHTS, Harness
from tests.handlers.test_forms import NUMBER, _forms, fill, start
from tests.handlers.test_handoff import STORY


async def test_migrations_and_a_form_end_to_end(pg_harness: Harness) -> None:
    harness = pg_harness
    assert harness.engine.dialect.name == "postgresql"
    assert current(harness.engine) == revisions()[-1] == "0009"
    assert "draft" in inspect(harness.engine).get_table_names()
    form = _forms(harness)["hardship_aid"]
    await start(harness, form)
    summary = await fill(harness, form)
    keyboard = summary["reply_markup"]["inline_keyboard"]
    submit = next(b["callback_data"] for row in keyboard for b in row if b["text"] == "提交")
    press = harness.fake.press_button(
        harness.member, harness.member.id, summary["message_id"], submit, enqueue=False
    )
    await harness.process(press)
    await harness.process(press)  # delivered twice: still one case
    with Session(harness.engine) as session:
        cases = session.exec(select(Case)).all()
        drafts = session.exec(select(Draft)).all()
    assert len(cases) == 1 and cases[0].status is CaseStatus.OPEN
    assert NUMBER.fullmatch(cases[0].number or "")
    assert cases[0].answers and cases[0].answers["causes"]
    assert drafts[0].stage is DraftStage.SUBMITTED
    assert any(m.get("text", "").startswith("申请 HD-") for m in harness.fake.bot_messages(RIGHTS))


async def test_handoff_and_staff_reply(pg_harness: Harness) -> None:
    harness = pg_harness
    await harness.say(STORY)
    await harness.press("转人工")
    card = harness.last(RIGHTS)
    await harness.staff_reply(RIGHTS, card["message_id"], "您好，请带诊断证明。")
    assert "请带诊断证明" in harness.last(harness.member.id)["text"]
    with Session(harness.engine) as session:
        assert session.exec(select(Case)).one().status is CaseStatus.IN_PROGRESS
