"""The duty-list importer, checked field by field against the union's document."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from knowledge.catalogue import DEFAULT_CATALOGUE_PATH, Catalogue, Contact, load_catalogue
from knowledge.importer import (
    CatalogueImportError,
    import_duty_list,
    parse_duty_list,
    split_documents,
    split_steps,
)
from tests.conftest import SEED

ORGANISATION_CONTACT = Contact(
    phone="24316932",
    email="hdqzghzzb@126.com",
    address="天津市河东区后台一号路工人俱乐部院内",
)
DEMOCRACY_CONTACT = Contact(
    phone="24312556",
    email="kidy_0523@163.com",
    address="天津市河东区津塘路大直沽后台工人俱乐部院内",
)


@pytest.fixture
def imported(seed_text: str) -> Catalogue:
    return parse_duty_list(seed_text)


def test_four_areas_and_fourteen_duties(imported: Catalogue) -> None:
    assert [area.id for area in imported.areas] == ["1", "2", "3", "4"]
    assert [duty.id for duty in imported] == [
        "1.1", "1.2", "1.3", "1.4", "2.1", "2.2", "2.3", "2.4",
        "3.1", "3.2", "3.3", "3.4", "4.1", "4.2",
    ]  # fmt: skip
    # Area 4's name is split over two lines in the table.
    assert imported.area("4") is not None
    assert imported.area("4").name == "评选劳模及帮扶劳模"  # type: ignore[union-attr]
    assert imported.area("1").name == "指导基层工会的组织发展和建设、负责全区工会干部培训"  # type: ignore[union-attr]


def test_duty_1_1_field_by_field(imported: Catalogue) -> None:
    duty = imported.duty("1.1")
    assert duty.area_id == "1"
    assert duty.name == "指导基层工会的组织发展和建设工作"
    assert duty.basis == ("《工会法》", "《中国工会章程》")
    assert duty.department == "组织部"
    assert duty.boundary == "区总工会"
    assert duty.steps == (
        "成立工会筹备组（提出建会申请，报上一级工会批准）",
        "宣传动员，登记、发展工会会员",
        "建立分工会或工会小组",
        "选举产生会员代表",
        "酝酿产生工会委员、经费审查委员、女工委员候选人建议名单",
        "召开工会会员大会或会员代表大会选举工会委员会、经费审查委员会和女职工委员会",
        "召开工会委员会、经费审查委员会和女职工委员会选举工会主席、副主席、经审主任、女工主任",
        "选举结果报上一级工会批准",
        "凭上一级工会批复，办理相关手续",
    )
    assert duty.materials == ("建会申请", "上级工会批复", "选举结果报告", "上级批复")
    assert duty.responsibilities == (
        "经会议研究，部署各街道总工会基层工会建设和会员管理工作",
        "各基层工会建会信息及时录入数据库",
        "完成上级部门考核工作",
    )
    assert duty.contact == ORGANISATION_CONTACT


def test_duty_1_3_keeps_both_titles(imported: Catalogue) -> None:
    duty = imported.duty("1.3")
    # The table says 负责…, the detail section 组织…: the detail section's 名称 is the name.
    assert duty.name == "组织全区工会干部的培训工作"
    assert duty.title == "负责全区工会干部的培训工作"
    assert duty.steps == ("制定培训方案、计划", "抽调学员", "组织培训", "培训总结")
    assert duty.materials == ("计划", "总结")  # trailing spaces in the source


def test_duty_2_1_full_width_spaces_and_empty_materials(imported: Catalogue) -> None:
    duty = imported.duty("2.1")
    assert duty.name == "指导推动厂务公开民主管理、工资集体协议的签订和监督"
    # The legal basis runs over two lines and starts with a full-width space.
    assert duty.basis == (
        "《中华人民共和国工会法》",
        "《中国工会章程》",
        "《天津市企业职工民主管理条例》",
        "《天津市企业工资集体协商条例》",
    )
    assert duty.department == "民主管理部"
    assert duty.steps == ("会议研究", "启动部署", "指导推动", "统计汇总")
    assert duty.materials == ()  # empty in the source: never invented
    assert duty.responsibilities[1] == "会议研究，指导推动基层建立厂务公开民主管理制度"
    assert duty.contact == DEMOCRACY_CONTACT


def test_duty_2_2_word_artefact_and_trailing_semicolon(imported: Catalogue) -> None:
    duty = imported.duty("2.2")
    assert duty.name == "指导推动劳动竞赛和职工技术协作工作"  # source ends in ；
    assert duty.materials == ("劳动竞赛方案",)  # source has [bookmark: _GoBack] in front
    assert duty.department == "民主管理部"  # source has a full-width space in front
    assert duty.basis[-1] == "《天津市总工会<2016—2020年劳动竞赛“十三五”规划>》"


def test_duty_2_4_heading_over_two_lines(imported: Catalogue) -> None:
    duty = imported.duty("2.4")
    assert duty.name == "团结动员和组织女职工在经济社会发展中建功立业，加强女职工组织的自身建设"
    assert duty.responsibilities == ("贯彻落实市级及区级文件精神", "制定方案，会议研究，组织推动")


def test_duty_3_1_dash_pairs_and_document_number(imported: Catalogue) -> None:
    duty = imported.duty("3.1")
    assert duty.name == "帮扶困难职工、困难农民工的管理及开展慰问活动"
    assert duty.steps == ("领会市总通知文件精神", "制定我区方案", "开展帮扶慰问活动")
    # 2016—2020 is a range inside the title, not a separator.
    assert duty.basis == (
        "《天津市工会（2016—2020）年困难职工帮扶工作方案》（津工发〔2016〕14号）",
    )
    assert duty.department == "权益保障部"


def test_duty_3_2_two_procedures(imported: Catalogue) -> None:
    duty = imported.duty("3.2")
    assert duty.name == "会员普惠服务，包括工会会员服务卡的办理、管理工作及会员专属救助保障"
    assert duty.title == "工会会员服务卡的办理、管理工作及会员专属救助保障"
    assert [p.title for p in duty.procedures] == ["办理程序", "年审程序"]
    assert duty.procedures[0].steps == (
        "在指定时间个人向本级工会提交办卡材料",
        "基层工会汇总后向上级工会申报",
        "上级工会向区总工会申报材料",
        "区总工会审核后于银行接洽办理工会会员服务卡",
        "等待发卡",
    )
    assert duty.procedures[1].steps[-1] == "与保险合作社续保"
    assert duty.basis == (
        "市总工会文件《关于进一步做好工会会员服务卡相关工作的通知》（津工通〔2015〕54号）",
    )
    assert duty.materials == ()
    assert duty.contact == DEMOCRACY_CONTACT  # indented with spaces in the source


def test_duty_4_1_basis_split_over_lines(imported: Catalogue) -> None:
    duty = imported.duty("4.1")
    assert duty.basis == (
        "《关于推荐评选2016年度天津市五一劳动奖的通知》（津工通〔2017〕6号）",
        "《关于推荐评选2016年度市、区级“五一”劳动奖状、奖章和工人先锋号的通知》"
        "（津东总工发 [2017]7号）",
    )
    assert duty.department == "宣传教育部"
    assert duty.responsibilities[1] == "经会议研究，并报区委通过"


def test_duty_4_2_table_title_not_glued_to_next_heading(imported: Catalogue) -> None:
    duty = imported.duty("4.2")
    assert duty.title == "负责全区困难劳模帮扶工作"
    assert duty.steps == (
        "通知各个基层劳模单位",
        "各单位将审核材料上报区总工会",
        "区总工会审核",
        "汇总后上报市总工会",
    )


def test_committed_catalogue_is_the_import_of_the_seed(imported: Catalogue) -> None:
    assert load_catalogue(DEFAULT_CATALOGUE_PATH) == imported


def test_written_file_reads_back_identically(imported: Catalogue, tmp_path: Path) -> None:
    output = tmp_path / "duties.toml"
    assert import_duty_list(SEED, output) == imported
    assert load_catalogue(output) == imported
    assert "会员服务卡" in output.read_text(encoding="utf-8")  # UTF-8, not escaped


def test_split_steps_handles_every_dash() -> None:
    assert split_steps("甲-乙—丙——丁- 戊") == ("甲", "乙", "丙", "丁", "戊")
    assert split_steps("方案（2016—2020）-总结") == ("方案（2016—2020）", "总结")


def test_split_documents_keeps_issuer_and_number() -> None:
    assert split_documents("《工会法》和《中国工会章程》") == ("《工会法》", "《中国工会章程》")
    assert split_documents("全总《规划》") == ("全总《规划》",)
    assert split_documents("") == ()
    assert split_documents("区里的文件") == ("区里的文件",)


# ---------------------------------------------------------------- refusals


def _section(duty_id: str, name: str) -> str:
    return (
        f"\t序号\n\t{duty_id}\n\n\t名称\n\t{name}\n\n\t法定依据\n\t《工会法》\n\n"
        "\t实施机构\n\t组织部\n\n\t职责边界\n\t区总工会\n\n\t运行流程\n\t甲-乙\n\n"
        "\t运行要件\n\t\n\n\t责任事项\n\t1.做事\n\n\t监督方式\n\t监督电话：123\n\n"
    )


def test_refuses_a_file_that_is_not_a_duty_list() -> None:
    with pytest.raises(CatalogueImportError, match=r"line 1: .* is not a duty list"):
        parse_duty_list("会议纪要\n今天开会。\n", source="notes.txt")


def test_refuses_a_duty_without_id_and_names_the_line() -> None:
    text = _section("1.1", "甲") + _section("", "乙")
    second = text.splitlines().index("\t序号", 1) + 1
    with pytest.raises(CatalogueImportError, match=rf"line {second}: duty has no id"):
        parse_duty_list(text)


def test_refuses_a_duty_without_name() -> None:
    with pytest.raises(CatalogueImportError, match=r"line 1: duty 1.1 has no name"):
        parse_duty_list(_section("1.1", ""))


def test_refuses_clashing_ids() -> None:
    text = _section("1.1", "甲") + _section("1.1", "乙")
    with pytest.raises(
        CatalogueImportError, match=r"duplicate duty id 1.1 \(first defined at line 1\)"
    ):
        parse_duty_list(text)


def test_refuses_table_entries_without_a_section() -> None:
    table = "\t序号\n\t名称\n\t1\n\t组织\n\t1.1\n\t甲\n\t1.2\n\t乙\n\n"
    with pytest.raises(CatalogueImportError, match=r"line 7: the overview table lists duty 1.2"):
        parse_duty_list(table + _section("1.1", "甲"))


def test_cli_refuses_without_touching_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes("\t序号\n\t1.1\n".encode("gbk") + b"\xff\xfe\n")
    output = tmp_path / "duties.toml"
    assert main(["import-duties", str(bad), "--output", str(output)]) == 1
    assert "not UTF-8" in capsys.readouterr().err
    assert not output.exists()


def test_import_never_touches_the_lexicon(tmp_path: Path) -> None:
    lexicon = Path(DEFAULT_CATALOGUE_PATH).with_name("lexicon.toml")
    before = lexicon.read_bytes()
    assert main(["import-duties", str(SEED), "--output", str(tmp_path / "duties.toml")]) == 0
    assert lexicon.read_bytes() == before
