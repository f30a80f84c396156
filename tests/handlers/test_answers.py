"""Answers a member can act on (issue 10 §1–§2): the first questions, labour disputes, and
answers that agree with the forms."""

from __future__ import annotations

import pytest

from bot.replies import form_eligibility, form_materials
from tests.handlers.conftest import Harness
from tests.handlers.test_forms import _buttons, _forms, _svc

LABOUR = [
    # (what a member says, the body named, a union service offered besides 转人工)
    ("老板拖欠工资三个月了怎么办", "劳动保障监察", "在线申请：申请困难帮扶"),
    ("包工头干完活跑了，我们的工钱找谁要", "劳动保障监察", "在线申请：申请困难帮扶"),
    ("我被公司辞退了没有补偿", "劳动人事争议仲裁委员会", None),
    ("劳动仲裁去哪立案", "劳动人事争议仲裁委员会", None),
    ("干了一年多公司一直不跟我签劳动合同", "劳动保障监察", None),
    ("周末加班从来不给加班费", "劳动人事争议仲裁委员会", None),
    ("工伤认定要什么材料", "人社部门", "了解：参与劳动保护和安全生产的监督检查工作"),
    ("职业病诊断去哪做", "职业病诊断机构", "了解：参与劳动保护和安全生产的监督检查工作"),
    ("休完产假回来公司把我调岗降薪", "妇联", "了解：团结动员和组织女职工"),
    ("公司不给我们交社保", "社保经办机构", None),
]


@pytest.mark.parametrize(("question", "body", "service"), LABOUR)
async def test_a_labour_dispute_gets_who_decides_it_and_the_unions_help(
    harness: Harness, question: str, body: str, service: str | None
) -> None:
    answer = await harness.say(question)
    text = answer["text"]
    assert body in text, text
    assert "建议先保存好这些证据" in text and "24312556" in text, "evidence, and 权益保障部"
    assert "制定工作安排" not in text, "never the internal card of 3.4"
    assert "不属于工会的职责范围" not in text
    buttons = _buttons(answer)
    assert "转人工" in buttons
    if service is not None:
        assert any(button.startswith(service) for button in buttons), buttons


async def test_a_labour_dispute_handed_over_reaches_the_rights_department(
    harness: Harness,
) -> None:
    from tests.handlers.conftest import RIGHTS

    await harness.say("老板拖欠工资三个月了怎么办")
    await harness.press("转人工")
    assert "拖欠工资" in harness.last(RIGHTS)["text"]


@pytest.mark.parametrize(
    ("question", "expected", "absent"),
    [
        ("我想加入工会", "通过您所在单位的工会", "选举产生会员代表"),
        ("会费怎么交", "请问您单位的工会", "%"),
        ("会员服务卡有什么用", "普惠服务卡", None),
        ("会员卡丢了怎么办", "24312556", None),
        ("这个要交钱吗", "没有在网上公布收费规定", "12345"),
        ("困难帮扶条件", "困难职工帮扶工作方案", None),
        ("区总工会在哪", "后台一号路工人俱乐部院内", None),
        ("我要投诉区总工会", "hdqzghzzb@126.com", None),
    ],
)
async def test_the_first_questions_get_a_caseworkers_answer(
    harness: Harness, question: str, expected: str, absent: str | None
) -> None:
    answer = await harness.say(question)
    assert expected in answer["text"], answer["text"]
    assert "依据：" in answer["text"], "every curated answer names its source"
    if absent is not None:
        assert absent not in answer["text"]


@pytest.mark.parametrize(
    "question", ["区总工会有哪些部门，各管嘛", "工会工人俱乐部院里那几个部门电话都给我一下"]
)
async def test_the_departments_and_what_each_does(harness: Harness, question: str) -> None:
    """Every department, what the duty list gives it, and its phone: never one duty's card."""
    catalogue = _svc(harness).catalogue
    text = (await harness.say(question))["text"]
    for department in catalogue.departments():
        assert f"{department}：" in text, text
        for duty in catalogue.duties_of_department(department):
            assert (duty.title or duty.name) in text
    assert "24316932" in text and "24312556" in text
    assert "依据：" in text


async def test_following_an_application(harness: Harness) -> None:
    answer = await harness.say("我的卡什么时候能办好")
    assert "/mycases" in answer["text"]


async def test_materials_and_eligibility_come_from_the_form(harness: Harness) -> None:
    form = _forms(harness)["service_card"]
    materials = await harness.say("办会员服务卡要带什么材料")
    for line in form_materials(form):
        assert line in materials["text"]
    assert "暂未列明" not in materials["text"]
    assert "在线申请：办理会员服务卡" in _buttons(materials)
    retired = await harness.say("我退休了还能办会员服务卡吗")
    for rule in form_eligibility(form):
        assert rule in retired["text"]
    # The duty's own card says the same: its materials are the form's.
    card = await harness.say("会员服务卡需要哪些材料")
    assert any(line in card["text"] for line in form_materials(form))
    # Asking for the rule: the documents, and the conditions the member will meet online.
    rule = await harness.say("会员服务卡的法律依据是什么")
    assert "津工通〔2015〕54号" in rule["text"]
    for condition in form_eligibility(form):
        assert condition in rule["text"]


async def test_words_shared_with_other_bodies_are_referred(harness: Harness) -> None:
    for question, body in (
        ("党员组织关系怎么转", "党组织"),
        ("安全生产许可证怎么办", "应急管理"),
        ("最低工资标准是多少", "人社"),
        ("三八红旗手怎么评", "妇联"),
        ("道德模范评选找哪个单位", "文明办"),
    ):
        answer = await harness.say(question)
        assert body in answer["text"], (question, answer["text"])


async def test_asking_how_tells_the_member_what_to_do_first(harness: Harness) -> None:
    """A duty with an online form: what the member does and what happens next come first;
    the union's internal steps follow under 办理流程, marked as such, and only there."""
    how = await harness.say("困难职工帮扶怎么申请")
    text = how["text"]
    assert text.index("怎么办理") < text.index("办理流程")
    assert "在线办理《困难职工帮扶申请》" in text and "「在线申请：申请困难帮扶」" in text
    assert "区总工会权益保障部会" in text and "通知您" in text
    assert "内部的办理环节" in text and "领会市总通知文件精神" in text
    card = await harness.say("困难职工帮扶")
    assert "在线办理《困难职工帮扶申请》" in card["text"]
    assert "领会市总通知文件精神" not in card["text"]
    assert "办理流程" in _buttons(card)


async def test_a_duty_without_a_form_keeps_its_published_steps(harness: Harness) -> None:
    answer = await harness.say("职代会怎么开")
    assert "怎么办理" not in answer["text"] and "内部的办理环节" not in answer["text"]
    assert "办理流程" in answer["text"]


async def test_can_i_apply_gets_who_may_apply(harness: Harness) -> None:
    answer = await harness.say("家里困难能申请工会帮扶吗")
    assert "困难职工帮扶工作方案" in answer["text"] and "依据：" in answer["text"]
    # A model worker's question stays with the model workers' aid.
    model = await harness.say("老劳模家里困难能申请帮扶吗")
    assert "困难劳模帮扶" in model["text"]


@pytest.mark.parametrize(
    ("question", "department", "online"),
    [
        ("办卡要多久", "权益保障部", True),
        ("申请帮扶要等几天才有结果", "权益保障部", True),
        ("劳模评选结果啥时候能公布", "宣传教育部", True),
        ("职工之家验收要多长时间", "组织部", False),
    ],
)
async def test_how_long_is_never_invented(
    harness: Harness, question: str, department: str, online: bool
) -> None:
    """The duty list publishes no time for any duty: the answer says so and whom to ask,
    instead of the union's internal steps or a time of its own."""
    text = (await harness.say(question))["text"]
    assert "没有公布" in text and department in text, text
    assert "工作日" not in text and "制定工作安排" not in text
    assert ("/mycases" in text) is online


async def test_how_long_asked_mid_form_gets_the_same_short_answer(harness: Harness) -> None:
    from tests.handlers.test_forms import fill, start

    form = _forms(harness)["service_card"]
    await start(harness, form)
    await fill(harness, form, until="unit")
    text = (await harness.say("办卡要多久？"))["text"]
    assert "没有公布" in text and "权益保障部" in text and "工作单位" in text


@pytest.mark.parametrize(
    "question", ["工作几个月能申请困难帮扶吗", "工作多久才能申请帮扶", "服务卡年审什么时候可以办"]
)
async def test_how_long_one_must_wait_is_not_how_long_the_union_takes(
    harness: Harness, question: str
) -> None:
    """How long one must have worked, or when something can be done, is not answered with
    the union's unpublished handling time: the duty's own answer stays."""
    text = (await harness.say(question))["text"]
    assert "办理要多长时间" not in text, text
    assert "申请" in text or "办理" in text
