"""Whole conversations through the real Application and a fake Telegram."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.models import Miss, MissReason
from tests.handlers.conftest import Harness


def _buttons(message: dict) -> list[str]:  # type: ignore[type-arg]
    keyboard = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button["text"] for row in keyboard for button in row]


def _misses(harness: Harness) -> list[tuple[str, MissReason]]:
    with Session(harness.engine) as session:
        return [(m.question, m.reason) for m in session.exec(select(Miss))]


async def test_start_welcomes_in_the_unions_name_with_a_privacy_notice(harness: Harness) -> None:
    reply = await harness.say("/start")
    assert "天津市河东区总工会" in reply["text"]
    assert "隐私" in reply["text"]
    commands = harness.fake.commands
    assert commands, "post_init registers the command menu"
    described = str(commands)
    assert "浏览服务事项" in described and "转人工" in described


async def test_help_and_commands_addressed_to_the_bot(harness: Harness) -> None:
    assert "使用说明" in (await harness.say("/help"))["text"]
    reply = await harness.say("/menu@hedong_union_bot")
    assert reply["text"] == "请选择服务类别："
    before = len(harness.fake.bot_messages(harness.member.id))
    await harness.say("/menu@some_other_bot")
    assert len(harness.fake.bot_messages(harness.member.id)) == before


async def test_a_question_gets_the_catalogue_answer_and_other_aspects_edit_in_place(
    harness: Harness,
) -> None:
    reply = await harness.say("会员卡咋办理啊")
    text = reply["text"]
    assert "办理流程" in text
    assert "1. 在指定时间个人向本级工会提交办卡材料" in text
    assert "5. 等待发卡" in text
    assert {"所需材料", "法定依据", "联系与监督", "转人工"} <= set(_buttons(reply))

    edited = await harness.press("联系与监督")
    assert edited["message_id"] == reply["message_id"], "the answer is edited in place"
    assert "24312556" in edited["text"]
    assert "天津市河东区" in edited["text"]

    basis = await harness.press("法定依据")
    assert basis["message_id"] == reply["message_id"]
    assert "法定依据" in basis["text"]


async def test_materials_are_listed(harness: Harness) -> None:
    reply = await harness.say("建会要准备啥材料")
    assert "所需材料" in reply["text"]
    assert "• 建会申请" in reply["text"]
    assert "• 选举结果报告" in reply["text"]


async def test_department_question_resolves_to_its_contacts(harness: Harness) -> None:
    reply = await harness.say("民主管理部的电话是多少")
    assert "民主管理部" in reply["text"]
    assert "24312556" in reply["text"]
    assert "kidy_0523@163.com" in reply["text"]


async def test_menu_browses_areas_duties_and_aspects_with_back_buttons(harness: Harness) -> None:
    menu = await harness.say("/menu")
    area = await harness.press("4. 评选劳模及帮扶劳模")
    assert area["message_id"] == menu["message_id"]
    assert "评选劳模及帮扶劳模" in area["text"]
    duty = await harness.press("4.1 负责劳动模范的推荐、评选及区劳模协会的日常工作")
    assert duty["message_id"] == menu["message_id"]
    assert "负责部门：宣传教育部" in duty["text"]
    materials = await harness.press("所需材料")
    assert "所需材料" in materials["text"]
    back = await harness.press("全部事项")
    assert "请选择具体事项" in back["text"]
    root = await harness.press("« 返回")
    assert root["text"] == "请选择服务类别："
    assert root["message_id"] == menu["message_id"]
    assert len(harness.fake.bot_messages(harness.member.id)) == 1, "no flooding"


async def test_unsure_asks_back_and_none_of_these_is_recorded(harness: Harness) -> None:
    reply = await harness.say("劳模")
    assert reply["text"].startswith("您是想问：")
    labels = _buttons(reply)
    assert "都不是" in labels and "转人工" in labels
    assert any("劳动模范的推荐" in label for label in labels)
    assert any("困难劳模" in label for label in labels)

    chosen = await harness.press("负责全区困难劳模帮扶工作")
    assert "负责全区困难劳模帮扶工作" in chosen["text"]

    await harness.say("劳模")
    none = await harness.press("都不是")
    assert "换个说法" in none["text"]
    assert ("劳模", MissReason.NONE_OF_THESE) in _misses(harness)
    assert ("劳模", MissReason.UNSURE) in _misses(harness)


async def test_words_the_lexicon_lacks_are_asked_back_about_from_similar_questions(
    harness: Harness,
) -> None:
    # No word of the lexicon, but the labelled questions most like it ask after hardship aid.
    reply = await harness.say("申请交上去多久能有信儿啊")
    assert reply["text"].startswith("您是想问：")
    labels = _buttons(reply)
    assert "都不是" in labels and "转人工" in labels
    assert any("帮扶困难职工" in label for label in labels)
    chosen = await harness.press("帮扶困难职工、困难农民工的管理及开展慰问活动")
    assert "帮扶困难职工" in chosen["text"]
    assert ("申请交上去多久能有信儿啊", MissReason.UNSURE) in _misses(harness)


async def test_out_of_scope_is_referred_and_recorded(harness: Harness) -> None:
    reply = await harness.say("社保断缴了咋补")
    assert "不属于工会的职责范围" in reply["text"]
    assert "12333" in reply["text"]
    assert "组织部：24316932" in reply["text"], "the union's own contacts are given"
    weather = await harness.say("明天天气咋样")
    assert "12345" in weather["text"]
    assert ("社保断缴了咋补", MissReason.OUT_OF_SCOPE) in _misses(harness)


async def test_small_talk_is_answered_as_small_talk(harness: Harness) -> None:
    assert "有什么可以帮您" in (await harness.say("你好"))["text"]
    assert "不客气" in (await harness.say("谢谢"))["text"]
    assert "服务助手" in (await harness.say("你是谁"))["text"]
    assert _misses(harness) == []


async def test_catalogue_text_is_escaped_and_the_member_text_never_breaks_html(
    harness: Harness,
) -> None:
    reply = await harness.say("<b>会员卡</b> 办理 & 材料 <script>")
    assert "会员" in reply["text"]
