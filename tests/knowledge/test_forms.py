"""The application forms (knowledge/forms/*.toml) and the validators behind every answer."""

from __future__ import annotations

import copy
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from stdnum.cn import ric, uscc

from knowledge.catalogue import Catalogue
from knowledge.forms import (
    Condition,
    FieldType,
    Form,
    FormError,
    FormField,
    ValidationError,
    display,
    load_forms,
    mask_id_number,
    mask_phone,
    upload_count_problem,
    validate,
    validate_upload,
)
from tests.factories import make_card_number, make_id_number, make_mobile, make_uscc

TODAY = date(2026, 11, 23)
MB = 1024 * 1024

EXPECTED_DUTIES = {
    "service_card": "3.2",
    "service_card_review": "3.2",
    "hardship_aid": "3.1",
    "model_worker_aid": "4.2",
    "union_founding": "1.1",
    "legal_person": "3.3",
    "model_worker_nomination": "4.1",
    "safety_report": "2.3",
}


@pytest.fixture(scope="module")
def forms() -> dict[str, Form]:
    return load_forms()


def ok(field: FormField, text: str) -> Any:
    return validate(field, text, today=TODAY)


def refused(field: FormField, text: str) -> str:
    with pytest.raises(ValidationError) as caught:
        validate(field, text, today=TODAY)
    return caught.value.message


def make_field(type_: FieldType, **values: Any) -> FormField:
    return FormField(
        id="answer", type=type_, label="答案", prompt="请输入。", help="帮助。", retry="请重试。",
        **values,
    )  # fmt: skip


# --- the shipped forms -------------------------------------------------------------------------


def test_all_forms_load_with_their_duties(catalogue: Catalogue) -> None:
    forms = load_forms(duties=[duty.id for duty in catalogue])
    assert {form_id: form.duty for form_id, form in forms.items()} == EXPECTED_DUTIES


def test_privacy_names_the_duty_department(forms: dict[str, Form], catalogue: Catalogue) -> None:
    for form in forms.values():
        department = catalogue.duty(form.duty).department
        assert department in form.privacy.recipients, form.id
        assert "区总工会" in form.privacy.recipients, form.id
        # The keeping periods come from the settings (bot.retention): a form adds only its own.
        assert not re.search(r"\d+\s*[年天]", form.privacy.retention), form.id
        assert form.privacy.collected and form.privacy.purpose, form.id


def test_every_field_speaks_to_the_member(forms: dict[str, Form]) -> None:
    for form in forms.values():
        assert 0 < len(form.button) <= 12, form.id
        assert form.intro and form.title
        for field in form.fields:
            for text in (field.label, field.prompt, field.help, field.retry):
                assert text.strip(), f"{form.id}.{field.id}"
                assert any("\u4e00" <= char <= "\u9fff" for char in text), text
            # Form and field ids travel together in callback data (at most 64 bytes).
            assert len(f"{form.id}:{field.id}:".encode()) <= 48, field.id


def test_health_forms_ask_for_separate_consent(forms: dict[str, Form]) -> None:
    with_health = {form.id for form in forms.values() if form.privacy.sensitive}
    assert with_health == {"hardship_aid", "model_worker_aid"}
    hardship = forms["hardship_aid"]
    assert hardship.field("causes").sensitive and hardship.field("description").sensitive
    assert "敏感个人信息" in hardship.privacy.sensitive
    assert not forms["service_card"].field("name").sensitive


def test_service_card_gate_refuses_retirees(forms: dict[str, Form]) -> None:
    gate = forms["service_card"].fields[0]
    assert gate.id == "in_service" and gate.type is FieldType.YESNO
    assert gate.refuses(ok(gate, "不是")) and not gate.refuses(ok(gate, "是"))
    assert "退休" in gate.refusal and "临时" in gate.refusal
    assert forms["service_card"].field("phone").mobile_only
    photo = forms["service_card"].field("id_card_photo")
    assert (photo.min_count, photo.max_count) == (1, 2)


def test_hardship_fields_match_the_issue(forms: dict[str, Form]) -> None:
    form = forms["hardship_aid"]
    assert form.field("causes").options == (
        "患病", "残疾", "失业/下岗", "遭受灾害", "子女上学", "其他",
    )  # fmt: skip
    size = form.field("household_size")
    assert (size.minimum, size.maximum, size.unit) == (1, 20, "人")
    assert not form.field("income_per_person").integer


# --- resident ID numbers -----------------------------------------------------------------------


def test_factory_id_numbers_are_valid() -> None:
    for sequence in range(30):
        assert ric.is_valid(make_id_number(sequence=sequence))
    assert uscc.is_valid(make_uscc(7))


def test_id_number_accepts_what_members_type(forms: dict[str, Form]) -> None:
    field = forms["service_card"].field("id_number")
    number = make_id_number()
    assert ok(field, number) == number
    full_width = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert ok(field, full_width) == number
    assert ok(field, f" {number[:6]} {number[6:14]}-{number[14:]} ") == number
    with_x = next(n for s in range(200) if (n := make_id_number(sequence=s)).endswith("X"))
    assert ok(field, with_x.lower()) == with_x


def test_id_number_says_what_is_wrong(forms: dict[str, Form]) -> None:
    field = forms["service_card"].field("id_number")
    number = make_id_number()
    wrong_check = number[:-1] + ("1" if number[-1] != "1" else "2")
    assert refused(field, wrong_check) == "身份证号码的校验位不对，请核对后重新输入。"
    assert "18位" in refused(field, number[:-2])
    assert "15位" in refused(field, "120102850615123")
    assert "数字" in refused(field, number[:-1] + "A")
    first17 = "12010219850230123"  # 30 February
    assert "出生日期" in refused(field, first17 + ric.calc_check_digit(first17 + "0"))
    assert "晚于今天" in refused(field, make_id_number(date(2027, 1, 5)))
    assert "12岁" in refused(field, make_id_number(date(2014, 6, 1)))
    assert "120岁" in refused(field, make_id_number(date(1906, 6, 1)))
    assert ok(field, make_id_number(date(2010, 11, 23))) == make_id_number(date(2010, 11, 23))
    assert "15岁" in refused(field, make_id_number(date(2010, 11, 24)))


# --- phones ------------------------------------------------------------------------------------


def test_phone_accepts_mobiles_and_tianjin_landlines(forms: dict[str, Form]) -> None:
    field = forms["hardship_aid"].field("phone")
    mobile = make_mobile(12)
    assert ok(field, mobile) == f"+86{mobile}"
    assert ok(field, "１３９ ００００-００１２") == f"+86{mobile}"
    assert ok(field, f"+86 {mobile}") == f"+86{mobile}"
    assert ok(field, "022-24316932") == "+862224316932"
    assert ok(field, "(022)24316932") == "+862224316932"
    assert ok(field, "02224316932") == "+862224316932"
    assert ok(field, "24316932") == "+862224316932"  # 8 digits: a Tianjin number without 022


def test_phone_refusals(forms: dict[str, Form]) -> None:
    field = forms["hardship_aid"].field("phone")
    assert "11位" in refused(field, make_mobile()[:-1])
    assert "数字" in refused(field, "1390000abcd")
    assert "有效" in refused(field, "2431693")
    assert "中国大陆" in refused(field, "+852 91234567")
    mobile_only = forms["service_card"].field("phone")
    assert "座机" in refused(mobile_only, "022-24316932")
    assert ok(mobile_only, make_mobile(1)) == f"+86{make_mobile(1)}"


# --- USCC, choices, numbers, dates, yes/no, text, names -----------------------------------------


def test_uscc(forms: dict[str, Form]) -> None:
    field = forms["union_founding"].field("uscc")
    code = make_uscc(42)
    assert ok(field, code.lower()) == code
    assert ok(field, f"{code[:8]} {code[8:]}") == code
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    assert "校验位" in refused(field, wrong)
    assert "18位" in refused(field, code[:10])
    assert "大写字母" in refused(field, "A" + code[1:])


def test_choice_by_number_or_text(forms: dict[str, Form]) -> None:
    field = forms["model_worker_aid"].field("honour")
    assert ok(field, "2") == "天津市劳动模范"
    assert ok(field, "２") == "天津市劳动模范"
    assert ok(field, "河东区劳动模范") == "河东区劳动模范"
    assert ok(field, "河东") == "河东区劳动模范"  # the only option containing it
    assert "1. 全国劳动模范" in refused(field, "5")
    assert "可选" in refused(field, "劳动模范")  # ambiguous: three options contain it


def test_multi(forms: dict[str, Form]) -> None:
    field = forms["hardship_aid"].field("causes")
    for text in ("1,3", "1 3", "1、3", "3，1", "13", "患病、失业", "患病和失业/下岗", "1,1,3"):
        assert ok(field, text) == ["患病", "失业/下岗"], text
    assert ok(field, "其他") == ["其他"]
    assert "“7”" in refused(field, "1,7")
    limited = make_field(FieldType.MULTI, options=("甲", "乙", "丙"), max_choices=2)
    assert "最多" in refused(limited, "1 2 3")


def test_options_in_members_words(forms: dict[str, Form]) -> None:
    """The form's option_words: what members type for a cause is read as that cause."""
    field = forms["hardship_aid"].field("causes")
    assert ok(field, "生病了") == ["患病"]
    assert ok(field, "老伴瘫痪在床，孩子上学") == ["残疾", "子女上学"]
    assert ok(field, "住院了，孩子学费也交不上") == ["患病", "子女上学"]
    assert "“工资不够用”" in refused(field, "工资不够用")  # nothing said that names a cause
    single = make_field(
        FieldType.CHOICE, options=("在职", "退休"), option_words={"退休": ("退了",)}
    )
    assert ok(single, "我都退了好几年了") == "退休"


def test_numbers_with_units_and_ranges(forms: dict[str, Form]) -> None:
    size = forms["hardship_aid"].field("household_size")
    assert ok(size, "3") == 3
    assert ok(size, "3人") == 3
    assert ok(size, "三口人") == 3
    assert ok(size, "１２") == 12
    assert "整数" in refused(size, "2.5")
    assert "不能大于20人" in refused(size, "21")
    assert "不能小于1人" in refused(size, "0")
    assert "识别" in refused(size, "3到5")
    income = forms["hardship_aid"].field("income_per_person")
    assert ok(income, "２５００元") == 2500
    assert ok(income, "2500.5") == 2500.5
    assert ok(income, "2,500") == 2500
    assert ok(income, "两千五") == 2500
    assert ok(income, "一千零五") == 1005
    assert ok(income, "1.5万") == 15000
    assert "不能小于0元" in refused(income, "-1")


def test_dates() -> None:
    field = make_field(FieldType.DATE, not_after="today", not_before="2020-01-01")
    for text in ("2026-11-20", "2026/11/20", "2026年11月20日", "20261120", "２０２６．１１．２０"):
        assert ok(field, text) == "2026-11-20", text
    assert ok(field, "2026-1-5") == "2026-01-05"
    assert ok(field, "今天") == "2026-11-23"
    assert "晚于今天" in refused(field, "2026-11-24")
    assert "早于2020年1月1日" in refused(field, "2019-12-31")
    assert "真实的日期" in refused(field, "2026-02-30")
    assert "识别" in refused(field, "下周一")


def test_yes_and_no(forms: dict[str, Form]) -> None:
    field = forms["hardship_aid"].field("migrant_worker")
    for text in ("是", "是的", "对", "有", "yes", "Y", "是。"):
        assert ok(field, text) is True, text
    for text in ("否", "不是", "没有", "no", "NO"):
        assert ok(field, text) is False, text
    assert "“是”或“否”" in refused(field, "也许吧")


def test_text_lengths_and_cleaning(forms: dict[str, Form]) -> None:
    description = forms["hardship_aid"].field("description")
    assert "至少需要20个字" in refused(description, "家里有困难")
    assert "最多1000个字" in refused(description, "困" * 1001)
    long = "第一行：家中老人患病，长期住院治疗。\r\n第二行：\u200b孩子上学需要学费。\x07"
    expected = "第一行：家中老人患病，长期住院治疗。\n第二行：孩子上学需要学费。"
    assert ok(description, f"  {long}  ") == expected
    unit = forms["service_card"].field("unit")
    assert ok(unit, "河东区某某公司\n食品厂") == "河东区某某公司 食品厂"
    assert "至少需要2个字" in refused(unit, "厂")


def test_optional_field_can_be_skipped(forms: dict[str, Form]) -> None:
    card = forms["service_card_review"].field("card_number")
    assert ok(card, "跳过") is None
    number = make_card_number(3)
    assert ok(card, " ".join(number[i : i + 4] for i in range(0, 19, 4))) == number
    assert "16" in refused(card, "6222")
    required = forms["service_card"].field("unit")
    assert "至少" in refused(required, "无")


def test_names(forms: dict[str, Form]) -> None:
    field = forms["service_card"].field("name")
    assert ok(field, "张三") == "张三"
    assert ok(field, " 张 三 ") == "张三"
    assert ok(field, "阿依古丽•买买提") == "阿依古丽·买买提"
    assert ok(field, "John  Smith") == "John Smith"
    assert "数字" in refused(field, "张三3")
    assert "2至20" in refused(field, "张")
    assert "符号" in refused(field, "张三@")


# --- conditions and navigation -----------------------------------------------------------------


def test_other_cause_only_with_other(forms: dict[str, Form]) -> None:
    form = forms["hardship_aid"]
    ids = [f.id for f in form.visible_fields({"causes": ["患病"]})]
    assert "other_cause" not in ids
    assert "other_cause" in [f.id for f in form.visible_fields({"causes": ["患病", "其他"]})]
    assert "other_cause" not in [f.id for f in form.visible_fields({})]


def test_anonymous_report_hides_name_and_phone(forms: dict[str, Form]) -> None:
    form = forms["safety_report"]
    assert form.anonymous_allowed and form.fields[0].id == "anonymous"
    base = {"unit": "某厂", "location": "车间", "problem": "消防通道被货物堵死", "photos": None}
    anonymous = [f.id for f in form.visible_fields({"anonymous": True, **base})]
    assert "reporter_name" not in anonymous and "reporter_phone" not in anonymous
    assert form.next_field({"anonymous": True, **base}) is None
    named = form.next_field({"anonymous": False, **base})
    assert named is not None and named.id == "reporter_name"
    # A member who switches to anonymous leaves no name behind in the answers that count.
    stale = {"anonymous": True, **base, "reporter_name": "张三", "reporter_phone": "+86139"}
    assert "reporter_name" not in form.visible_answers(stale)


def test_a_stale_answer_of_a_hidden_field_shows_nothing(forms: dict[str, Form]) -> None:
    base = forms["safety_report"]
    kind = FormField(
        id="kind", type=FieldType.CHOICE, label="类型", prompt="哪种？", help="帮助。",
        retry="请选择。", options=("火灾", "其他"), when=Condition("anonymous", equals=False),
    )  # fmt: skip
    detail = FormField(
        id="detail", type=FieldType.TEXT, label="说明", prompt="说明？", help="帮助。",
        retry="请说明。", when=Condition("kind", equals="其他"),
    )  # fmt: skip
    form = Form(
        id="chain", duty="2.3", title="链", button="链", intro="链。", privacy=base.privacy,
        fields=(base.fields[0], kind, detail), time_limit_days=5, next_steps="",
    )  # fmt: skip
    shown = [f.id for f in form.visible_fields({"anonymous": False, "kind": "其他"})]
    assert shown == ["anonymous", "kind", "detail"]
    # The member went back and chose anonymous: "kind" is hidden, so its old 其他 counts no more.
    assert [f.id for f in form.visible_fields({"anonymous": True, "kind": "其他"})] == [
        "anonymous"
    ]


def test_next_and_previous_field(forms: dict[str, Form]) -> None:
    form = forms["hardship_aid"]
    first = form.next_field({})
    assert first is not None and first.id == "name"
    answers: dict[str, Any] = {"name": "张三", "id_number": make_id_number(), "phone": None}
    following = form.next_field(answers)
    assert following is not None and following.id == "unit"  # skipped (None) counts as answered
    answers |= {"unit": "某厂", "migrant_worker": False, "household_size": 3}
    answers |= {"income_per_person": 800, "causes": ["患病"]}
    following = form.next_field(answers)
    assert following is not None and following.id == "description"
    previous = form.previous_field(answers, "description")
    assert previous is not None and previous.id == "causes"  # other_cause is hidden
    answers["causes"] = ["其他"]
    previous = form.previous_field(answers, "description")
    assert previous is not None and previous.id == "other_cause"
    assert form.previous_field(answers, "name") is None
    last = form.previous_field(answers, None)
    assert last is not None and last.id == "documents"


# --- uploads -----------------------------------------------------------------------------------


def test_upload_limits(forms: dict[str, Form]) -> None:
    field = forms["service_card"].field("id_card_photo")

    def check(**overrides: Any) -> str | None:
        values: dict[str, Any] = {
            "kind": "photo", "mime_type": None, "size": 2 * MB, "file_name": None,
            "count_so_far": 0,
        }  # fmt: skip
        return validate_upload(field, **(values | overrides))

    assert check() is None
    too_big = check(size=21 * MB)
    assert too_big is not None and "20 MB" in too_big
    assert check(kind="document", mime_type="application/pdf", file_name="身份证.pdf") is None
    assert check(kind="document", mime_type=None, file_name="scan.PNG") is None
    wrong_type = check(kind="document", mime_type="application/zip", file_name="a.zip")
    assert wrong_type is not None and "PDF" in wrong_type and "JPG" in wrong_type
    too_many = check(count_so_far=2)
    assert too_many is not None and "最多上传2个" in too_many
    video = check(kind="video")
    assert video is not None and "照片或文件" in video
    assert upload_count_problem(field, 0) is not None
    assert upload_count_problem(field, 1) is None


def test_uploads_are_not_typed_answers(forms: dict[str, Form]) -> None:
    with pytest.raises(TypeError):
        ok(forms["service_card"].field("id_card_photo"), "照片")


# --- display -----------------------------------------------------------------------------------


def test_display_and_masking(forms: dict[str, Form]) -> None:
    form = forms["hardship_aid"]
    number = make_id_number()
    assert display(form.field("id_number"), number) == number
    assert display(form.field("id_number"), number, masked=True) == "120***********" + number[-4:]
    phone = form.field("phone")
    assert display(phone, "+8613900005678") == "13900005678"
    assert display(phone, "+8613900005678", masked=True) == "139****5678"
    assert display(phone, "+862224316932") == "022-24316932"
    assert display(phone, "+862224316932", masked=True) == "022-******32"
    assert display(form.field("migrant_worker"), True) == "是"
    assert display(form.field("migrant_worker"), False) == "否"
    assert display(form.field("causes"), ["患病", "其他"]) == "患病、其他"
    assert display(form.field("household_size"), 3) == "3人"
    assert display(form.field("income_per_person"), 2500.5) == "2500.5元"
    assert display(form.field("documents"), ["a", "b"]) == "2 个文件"
    assert display(form.field("unit"), None) == "（未填写）"
    assert display(make_field(FieldType.DATE), "2026-11-23") == "2026年11月23日"
    assert mask_id_number("12010219850615123X") == "120***********123X"
    assert mask_phone("13900005678") == "139****5678"


# --- broken form files -------------------------------------------------------------------------

GOOD_FORM: dict[str, Any] = {
    "id": "test_form",
    "duty": "3.2",
    "title": "测试表单",
    "button": "测试",
    "time_limit_days": 5,
    "next_steps": "组织部会审核。",
    "intro": "用于测试。",
    "privacy": {"collected": "姓名", "purpose": "测试", "recipients": "工会", "retention": "1"},
    "fields": [
        {"id": "happy", "type": "yesno", "label": "是否", "prompt": "是吗？", "help": "帮助。",
         "retry": "请回答是或否。"},
        {"id": "why", "type": "text", "label": "原因", "prompt": "为什么？", "help": "帮助。",
         "retry": "请说明原因。", "when": {"field": "happy", "equals": False}},
    ],
}  # fmt: skip


def write_form(directory: Path, data: dict[str, Any], name: str = "test_form.toml") -> None:
    directory.mkdir(exist_ok=True)
    (directory / name).write_text(tomli_w.dumps(data), encoding="utf-8")


def broken(tmp_path: Path, change: Any) -> str:
    data = copy.deepcopy(GOOD_FORM)
    change(data)
    write_form(tmp_path / "forms", data, "broken.toml")
    with pytest.raises(FormError) as caught:
        load_forms(tmp_path / "forms", duties=["3.2"])
    message = str(caught.value)
    assert message.startswith("broken.toml: "), message
    return message


def test_a_good_test_form_loads(tmp_path: Path) -> None:
    write_form(tmp_path / "forms", GOOD_FORM)
    assert list(load_forms(tmp_path / "forms", duties=["3.2"])) == ["test_form"]


def test_broken_forms_are_refused_with_the_file_name(tmp_path: Path) -> None:
    def duplicate(data: dict[str, Any]) -> None:
        data["fields"][1]["id"] = "happy"
        del data["fields"][1]["when"]

    assert "duplicate field id" in broken(tmp_path, duplicate)
    assert "unknown type 'email'" in broken(
        tmp_path, lambda d: d["fields"][1].update(type="email")
    )
    assert "not an earlier field" in broken(
        tmp_path, lambda d: d["fields"][0].update(when={"field": "why", "equals": "x"})
    )
    assert "'9.9' is not a duty" in broken(tmp_path, lambda d: d.update(duty="9.9"))
    assert "unknown key(s) optinal" in broken(
        tmp_path, lambda d: d["fields"][1].update(optinal=True)
    )
    assert "options" in broken(tmp_path, lambda d: d["fields"][1].update(type="choice"))
    assert "option_words for 丁: not an option" in broken(
        tmp_path,
        lambda d: d["fields"][1].update(
            type="choice", options=["甲", "乙"], option_words={"丁": ["丁丁"]}
        ),
    )
    assert "must_be is only for yesno and choice" in broken(
        tmp_path, lambda d: d["fields"][1].update(must_be="x", refusal="不行。")
    )
    assert "max_size_mb" in broken(
        tmp_path, lambda d: d["fields"][1].update(type="upload", max_size_mb=25)
    )
    assert "missing 'retry'" in broken(tmp_path, lambda d: d["fields"][1].pop("retry"))
    assert "missing 'time_limit_days'" in broken(tmp_path, lambda d: d.pop("time_limit_days"))
    assert "whole number of working days" in broken(
        tmp_path, lambda d: d.update(time_limit_days=0)
    )


def test_anonymous_forms_must_hide_identity(tmp_path: Path) -> None:
    def anonymous_with_open_name(data: dict[str, Any]) -> None:
        data["anonymous_allowed"] = True
        data["fields"][0]["id"] = "anonymous"
        data["fields"][1] = {
            "id": "name", "type": "name", "label": "姓名", "prompt": "姓名？", "help": "帮助。",
            "retry": "请输入姓名。",
        }  # fmt: skip

    assert "'anonymous', equals = false" in broken(tmp_path, anonymous_with_open_name)


def test_form_ids_are_unique_across_files(tmp_path: Path) -> None:
    write_form(tmp_path / "forms", GOOD_FORM, "a.toml")
    write_form(tmp_path / "forms", GOOD_FORM, "b.toml")
    with pytest.raises(FormError, match=r"^b\.toml: form id 'test_form' is already used"):
        load_forms(tmp_path / "forms", duties=["3.2"])


def test_card_number_is_luhn_checked_and_masked() -> None:
    from datetime import date as _date

    from knowledge.forms import FieldType, FormField, ValidationError, display, validate
    from tests.factories import make_card_number

    field = FormField(
        id="card", type=FieldType.CARD_NUMBER, label="卡号", prompt="p", help="h", retry="r"
    )
    good = make_card_number(7)
    spaced = " ".join(good[i : i + 4] for i in range(0, len(good), 4))
    assert validate(field, spaced, today=_date(2026, 11, 24)) == good
    assert display(field, good, masked=True) == f"{good[:4]} **** **** {good[-4:]}"
    wrong = good[:-1] + str((int(good[-1]) + 1) % 10)
    for bad in (wrong, "1234", "我不记得卡号了但是你们可以查一下吧"):
        with pytest.raises(ValidationError):
            validate(field, bad, today=_date(2026, 11, 24))


@pytest.mark.parametrize(
    "text", ["会员卡怎么办理", "上一项", "请问要填什么？", "张三丰李四王五赵六"]
)
def test_a_question_is_not_a_name(text: str) -> None:
    from datetime import date as _date

    from knowledge.forms import FieldType, FormField, ValidationError, validate

    field = FormField(id="n", type=FieldType.NAME, label="姓名", prompt="p", help="h", retry="r")
    with pytest.raises(ValidationError):
        validate(field, text, today=_date(2026, 11, 24))
    assert validate(field, "欧阳娜娜", today=_date(2026, 11, 24)) == "欧阳娜娜"
    assert validate(field, "阿依古丽·买买提", today=_date(2026, 11, 24)) == "阿依古丽·买买提"
