"""Issue 12 §4: the general consent and the separate consent to sensitive personal information
have their own buttons and their own records, and each records the notice it answered."""

from __future__ import annotations

from sqlmodel import Session, col, select

from storage.models import CaseEvent, Draft, DraftStage
from tests.handlers.conftest import Harness
from tests.handlers.test_forms import _draft, _forms, fill, start


async def _at_privacy(harness: Harness) -> dict:  # type: ignore[type-arg]
    form = _forms(harness)["hardship_aid"]
    await harness.say("/apply")
    await harness.press(form.title)
    privacy = harness.last(harness.member.id)
    assert "个人信息告知" in privacy["text"]
    return privacy


async def test_a_double_tap_on_the_general_consent_never_gives_the_sensitive_one(
    harness: Harness,
) -> None:
    privacy = await _at_privacy(harness)
    await harness.press_on(
        harness.member.id, privacy["message_id"], "同意并开始填写", harness.member
    )
    asked = harness.last(harness.member.id)
    assert "敏感个人信息单独同意" in asked["text"]
    # The same button again (a double tap, or pressed once more later).
    await harness.press_on(
        harness.member.id, privacy["message_id"], "同意并开始填写", harness.member
    )
    draft = _draft(harness)
    assert draft is not None and draft.stage is DraftStage.CONSENT
    assert draft.consented_at is not None and draft.sensitive_consented_at is None
    assert "敏感个人信息单独同意" in harness.last(harness.member.id)["text"]
    general = privacy["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    sensitive = asked["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    assert general != sensitive


async def test_each_consent_records_the_notice_it_answered(harness: Harness) -> None:
    form = _forms(harness)["hardship_aid"]
    await start(harness, form)  # both consents, each with its own button
    draft = _draft(harness)
    assert draft is not None and draft.stage is DraftStage.FILLING
    assert draft.consent_version and draft.consent_version == draft.sensitive_consent_version
    await fill(harness, form)
    await harness.press("提交")
    with Session(harness.engine) as session:
        filed = session.exec(select(CaseEvent).where(col(CaseEvent.action) == "filed")).one()
    assert filed.detail["privacy_notice"] == draft.consent_version
    assert filed.detail["sensitive_privacy_notice"] == draft.sensitive_consent_version


async def test_a_changed_notice_is_agreed_again_before_filing(harness: Harness) -> None:
    form = _forms(harness)["hardship_aid"]
    await start(harness, form)
    await fill(harness, form)
    # The union changes its notice while the member is at the summary.
    with Session(harness.engine) as session:
        draft = session.exec(select(Draft)).one()
        draft.consent_version = draft.sensitive_consent_version = "an-older-notice"
        session.add(draft)
        session.commit()
    asked = await harness.press("提交")
    assert "告知的内容已更新" in asked["text"] and "个人信息告知" in asked["text"]
    with Session(harness.engine) as session:
        assert session.exec(select(CaseEvent)).first() is None  # nothing filed yet
    await harness.press("同意并开始填写")
    await harness.press("同意处理上述敏感个人信息")
    summary = harness.last(harness.member.id)
    assert "提交" in str(summary.get("reply_markup"))  # back at the summary, answers kept
    done = await harness.press("提交")
    assert "HD-" in done["text"]


async def test_a_consent_button_of_an_older_notice_shows_the_new_one(harness: Harness) -> None:
    """The notice changed after it was shown (a new version deployed): its old button records
    nothing and the member reads the new notice first."""
    privacy = await _at_privacy(harness)
    button = privacy["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    assert button.count(":") == 3, "the button names the notice's version"
    older = button.rsplit(":", 1)[0] + ":0123456789ab"
    await harness.process(
        harness.fake.press_button(
            harness.member, harness.member.id, privacy["message_id"], older, enqueue=False
        )
    )
    shown = harness.last(harness.member.id)
    assert "告知的内容刚刚更新" in shown["text"] and "个人信息告知" in shown["text"]
    draft = _draft(harness)
    assert draft is not None and draft.consented_at is None
    await harness.press("同意并开始填写")
    assert _draft(harness).consented_at is not None  # type: ignore[union-attr]
