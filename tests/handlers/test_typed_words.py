"""No typed word is lost: words at button steps, questions mid-form, 转人工 mid-form, small talk,
and the smaller input gaps of issue 10 §4."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from bot.fake import make_jpeg
from storage.models import Attachment, Case, CaseKind, CaseStatus, DraftStage, Member
from tests.factories import make_mobile
from tests.handlers.conftest import RIGHTS, Harness
from tests.handlers.test_casework import _card, _started_privately
from tests.handlers.test_forms import NUMBER, _buttons, _draft, _forms, fill, start


async def _open(harness: Harness, form_id: str) -> None:
    await harness.say("/apply")
    await harness.press(_forms(harness)[form_id].title)


@pytest.mark.parametrize("word", ["同意", "好的", "可以", "行", "嗯"])
async def test_typed_consent_starts_the_form(harness: Harness, word: str) -> None:
    await _open(harness, "service_card")
    asked = await harness.say(word)
    assert asked["text"].startswith("（1/7）"), asked["text"]
    draft = _draft(harness)
    assert draft is not None and draft.stage is DraftStage.FILLING and draft.consented_at


async def test_words_that_fit_no_button_get_one_short_line(harness: Harness) -> None:
    await _open(harness, "service_card")
    notices = len(harness.texts(harness.member.id))
    hint = await harness.say("嗯……我再想想")
    assert len(hint["text"]) < 60 and "同意并开始填写" in hint["text"]
    assert "个人信息告知" not in hint["text"], "never the whole notice again"
    assert "同意并开始填写" in _buttons(hint)
    assert len(harness.texts(harness.member.id)) == notices + 1
    refused = await harness.say("不同意")
    assert "不会收集您的信息" in refused["text"]


async def test_the_sensitive_consent_takes_typed_words_too(harness: Harness) -> None:
    await _open(harness, "hardship_aid")
    second = await harness.say("同意")
    assert "敏感个人信息单独同意" in second["text"]
    first_field = await harness.say("可以")
    assert first_field["text"].startswith("（1/")
    assert _draft(harness).sensitive_consented_at is not None  # type: ignore[union-attr]


@pytest.mark.parametrize("word", ["提交吧", "确认", "提交"])
async def test_typed_submit_files_the_case(harness: Harness, word: str) -> None:
    form = _forms(harness)["union_founding"]
    await start(harness, form)
    await fill(harness, form)
    filed = await harness.say(word)
    assert NUMBER.search(filed["text"]), filed["text"]


async def test_naming_a_field_at_the_summary_opens_it(harness: Harness) -> None:
    form = _forms(harness)["service_card"]
    await start(harness, form)
    await fill(harness, form)
    asked = await harness.say("不对 我要改电话")
    assert "手机号码" in asked["text"] and "（4/7）" in asked["text"]
    summary = await harness.say(make_mobile(5))
    assert summary["text"].startswith("请核对") and make_mobile(5) in summary["text"]
    assert "修改" in (await harness.say("改一下"))["text"]  # the edit menu


async def test_a_question_mid_form_is_answered_never_stored(harness: Harness) -> None:
    form = _forms(harness)["service_card"]
    await start(harness, form)
    await fill(harness, form, until="unit")
    answered = await harness.say("办卡要多久？")
    assert "还在填写中" in answered["text"] and "工作单位" in answered["text"]
    assert "unit" not in _draft(harness).answers  # type: ignore[union-attr]
    await harness.say("转人工")
    assert "unit" not in _draft(harness).answers, "转人工 is no 工作单位"  # type: ignore[union-attr]
    await harness.press("继续填写")
    # 不需要盖章吗 asks about something the bot cannot see: it says so, never 好的.
    unsure = await harness.say("不需要盖章吗")
    assert "一时答不准" in unsure["text"] and "好的" not in unsure["text"]
    assert "unit" not in _draft(harness).answers  # type: ignore[union-attr]


async def test_how_long_mid_form_is_about_the_form_in_hand(harness: Harness) -> None:
    """办下来要多久？ names nothing: during a hardship-aid application it asks about hardship
    aid, whose time the union has not published: whom to ask, and where progress shows."""
    form = _forms(harness)["hardship_aid"]
    await start(harness, form)
    answered = await harness.say("办下来要多久？")
    assert "没有公布" in answered["text"] and "24312556" in answered["text"]
    assert "/mycases" in answered["text"] and "还在填写中" in answered["text"]
    assert "一时答不准" not in answered["text"]


async def test_words_that_may_be_either_are_asked_about(harness: Harness) -> None:
    form = _forms(harness)["service_card"]
    await start(harness, form)
    await fill(harness, form, until="unit")
    which = await harness.say("会员服务卡年审")
    assert "是您的工作单位，还是想问问题" in which["text"]
    answered = await harness.press("我想问问题")
    assert "还在填写中" in answered["text"] and "unit" not in _draft(harness).answers  # type: ignore[union-attr]
    await harness.say("会员服务卡年审")
    await harness.press("是我的工作单位")
    assert _draft(harness).answers["unit"] == "会员服务卡年审"  # type: ignore[union-attr]


async def test_human_mid_form_pauses_the_form_and_comes_back(harness: Harness) -> None:
    form = _forms(harness)["service_card"]
    await start(harness, form)
    await fill(harness, form, until="id_card_photo")
    offer = await harness.say("转人工")
    assert "会保存下来" in offer["text"] and "转人工" in _buttons(offer)
    asked = await harness.press("转人工")
    assert "描述您要咨询的问题" in asked["text"]
    handed = await harness.say("身份证丢了能用临时身份证吗")
    assert "草稿已保存" in handed["text"]
    assert "继续填写《工会会员服务卡办理》" in _buttons(handed)
    # While the consultation is open, photos and words go to the consultation …
    await harness.process(
        harness.fake.user_message(harness.member, photo=make_jpeg(320, 240), enqueue=False)
    )
    relayed = await harness.say("补充一下，我是在职的")
    assert "已转给工作人员" in relayed["text"] and "继续填写《工会会员服务卡办理》" in _buttons(
        relayed
    )
    with Session(harness.engine) as session:
        consultation = session.exec(select(Case).where(Case.kind == CaseKind.CONSULTATION)).one()
        kept = session.exec(select(Attachment).where(Attachment.case_id == consultation.id)).all()
    assert len(kept) == 1
    # … and one press takes the member back to the form, which files as it should.
    await harness.press("继续填写《工会会员服务卡办理》")
    await harness.process(
        harness.fake.user_message(harness.member, photo=make_jpeg(640, 480), enqueue=False)
    )
    await harness.say("传完了")
    filed = await harness.say("提交")
    assert NUMBER.search(filed["text"]) and "已提交" in filed["text"]


async def test_upload_words(harness: Harness) -> None:
    form = _forms(harness)["safety_report"]
    await start(harness, form)
    await fill(harness, form, until="photos")
    skipped = await harness.say("没有")
    assert _draft(harness).current_field != "photos", skipped["text"]  # type: ignore[union-attr]


async def test_profile_remembers_only_the_applicants_own(harness: Harness) -> None:
    report = _forms(harness)["safety_report"]
    await start(harness, report)
    await fill(harness, report, yes=False)
    filed = await harness.say("提交")
    assert "自动填入" not in filed["text"], "an anonymous-capable report remembers nothing"
    nomination = _forms(harness)["model_worker_nomination"]
    await start(harness, nomination)
    await fill(harness, nomination)
    offered = await harness.say("提交")
    assert "姓名：张测试" in offered["text"] and f"电话：{make_mobile(0)}" in offered["text"]
    assert "工作单位" not in offered["text"].split("自动填入")[1], "not the nominee's unit"
    await harness.press("好的，记住")
    with Session(harness.engine) as session:
        member = session.exec(select(Member)).one()
    assert set(member.profile or {}) == {"name", "phone"}


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("👍", "收到"),
        ("🙏", "收到"),
        ("哈哈", "还有什么可以帮您"),
        ("？？？", "请问您想了解哪方面"),
        ("I need a membership card", "It answers in Chinese"),
        # A form's words typed with no form open: acknowledged, not called out of scope.
        ("同意", "好的。还有其他问题"),
        ("是的", "好的。还有其他问题"),
        ("不用了", "好的。还有其他问题"),
        # A bare name, or a question about nothing the bot can see: what do you need?
        ("张三", "请问您想了解哪方面"),
        ("可以吗", "请问您想了解哪方面"),
        ("行业", "请问您想了解哪方面"),
        ("不同意", "请问您想了解哪方面"),
        # A short question is still a question: 食堂几点开 is not the union's business.
        ("食堂几点开", "不属于工会的职责范围"),
        # How long, with nothing named: which service, not "not the union's".
        ("办下来要多久？", "请问您想了解哪方面"),
    ],
)
async def test_everyday_messages_get_a_friendly_reply(
    harness: Harness, said: str, expected: str
) -> None:
    reply = await harness.say(said)
    assert expected in reply["text"]
    assert ("不属于工会的职责范围" in reply["text"]) == ("不属于" in expected)


async def test_english_requests_get_their_button_first(harness: Harness) -> None:
    reply = await harness.say("Can I talk to a person please")
    assert _buttons(reply)[0] == "转人工 Talk to a person"
    card = await harness.say("how do I get a membership card")
    assert _buttons(card)[0].startswith("会员服务卡")
    join = await harness.say("How can I join the trade union?")
    assert _buttons(join)[0] == "加入工会 Join the union"
    answer = await harness.press("加入工会 Join the union")
    assert "基层工会" in answer["text"] and "组织部" in answer["text"]
    assert "建会申请" not in answer["text"]  # joining, not founding a union
    # English the router reads (pinyin it does not take for English) offers the duty's card.
    training = await harness.say("union cadre training how do i sign up")
    assert "It answers in Chinese" in training["text"]
    assert _buttons(training)[0] == "事项 1.3（中文）Details in Chinese"
    pinyin = await harness.say("huiyuanka zenme ban")
    assert "It answers in Chinese" not in pinyin["text"]


async def test_apply_and_progress_intents(harness: Harness) -> None:
    assert "可以在线办理的申请" in (await harness.say("我想申请"))["text"]
    form = _forms(harness)["union_founding"]
    await start(harness, form)
    await harness.say("/cancel")
    progress = await harness.say("我的卡什么时候能办好")
    assert "/mycases" in progress["text"] or "您的申请" in progress["text"]


async def test_mycases_offers_the_unfinished_draft(harness: Harness) -> None:
    form = _forms(harness)["service_card"]
    await start(harness, form)
    await harness.press("是")
    listing = await harness.say("/mycases")
    assert "继续填写《工会会员服务卡办理》（未提交）" in _buttons(listing)
    resumed = await harness.press("继续填写《工会会员服务卡办理》（未提交）")
    assert "姓名" in resumed["text"]


async def test_smaller_input_gaps(harness: Harness) -> None:
    report = _forms(harness)["safety_report"]
    await start(harness, report)
    await harness.say("不匿名")
    assert _draft(harness).answers["anonymous"] is False  # type: ignore[union-attr]
    await harness.say("/cancel")
    founding = _forms(harness)["union_founding"]
    await start(harness, founding)
    await fill(harness, founding, until="employees")
    await harness.say("5个人")
    assert _draft(harness).answers["employees"] == 5  # type: ignore[union-attr]
    too_many = await harness.say("8")
    assert "拟入会人数不能多于职工人数（5人）" in too_many["text"]
    await harness.say("3")
    assert _draft(harness).answers["members_wanted"] == 3  # type: ignore[union-attr]
    await harness.say("/cancel")
    legal = _forms(harness)["legal_person"]
    await start(harness, legal)
    await fill(harness, legal, until="phone")
    await harness.say("022-24312556转801")
    assert _draft(harness).answers["phone"] == "+862224312556 转801"  # type: ignore[union-attr]


async def test_a_choice_with_trailing_words_and_units_that_are_no_names(
    harness: Harness,
) -> None:
    aid = _forms(harness)["model_worker_aid"]
    await start(harness, aid)
    await fill(harness, aid, until="status")
    await harness.say("我已经退休了")
    assert _draft(harness).answers["status"] == "退休"  # type: ignore[union-attr]
    await harness.say("/cancel")
    card = _forms(harness)["service_card"]
    await start(harness, card)
    await fill(harness, card, until="unit")
    digits = await harness.say("12345678")
    assert "不要只填数字" in digits["text"]


async def test_an_answer_over_the_limit_is_not_thrown_away(harness: Harness) -> None:
    card = _forms(harness)["service_card"]
    await start(harness, card)
    await fill(harness, card, until="unit")
    long_unit = "天津市河东区" + "测试" * 40
    offer = await harness.say(long_unit)
    assert "最多60个字" in offer["text"] and "保留前60个字" in _buttons(offer)
    await harness.press("保留前60个字")
    assert _draft(harness).answers["unit"] == long_unit[:60]  # type: ignore[union-attr]


async def test_upload_captions_reach_staff(harness: Harness) -> None:
    _started_privately(harness, harness.staffer)
    form = _forms(harness)["service_card"]
    await start(harness, form)
    await fill(harness, form, until="id_card_photo")
    await harness.process(
        harness.fake.user_message(
            harness.member, photo=make_jpeg(640, 480), caption="正面", enqueue=False
        )
    )
    await harness.say("好了")
    filed = await harness.say("提交")
    number = NUMBER.search(filed["text"]).group()  # type: ignore[union-attr]
    card = _card(harness, RIGHTS, number)
    await harness.press_on(RIGHTS, card["message_id"], "查看材料")
    photo = harness.last(harness.staffer.id)
    assert "会员说明：正面" in photo["caption"]
    with Session(harness.engine) as session:
        assert session.exec(select(Case)).one().status is CaseStatus.OPEN


async def test_a_union_named_for_an_organisation_field_is_the_answer(harness: Harness) -> None:
    """所属基层工会 answered with a union's name is the answer, not a question about unions."""
    form = _forms(harness)["service_card"]
    await start(harness, form)
    await fill(harness, form, until="grassroots_union")
    reply = await harness.say("河东测试机械厂工会")
    assert "还是想问问题" not in reply["text"]
    draft = _draft(harness)
    assert draft is not None and draft.answers["grassroots_union"] == "河东测试机械厂工会"
