"""Issue 12 §1: staff search cases by name, unit or question, and the database keeps these
only encrypted, with keyed hashes beside them to search by (storage.search)."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import Session, select

from storage import crypto
from storage.crypto import new_key
from storage.models import SearchKey
from storage.search import keys_of, reindex
from tests.factories import TEST_KEY
from tests.handlers.conftest import RIGHTS, Harness
from tests.handlers.test_casework import _file_service_card
from tests.handlers.test_staff_commands import _command, _labels


async def _found(harness: Harness, words: str) -> str:
    await _command(harness, RIGHTS, f"/search {words}")
    found = harness.last(RIGHTS)
    return f"{found['text']} {_labels(found)}"


async def test_search_by_part_of_a_name_or_unit_uses_the_keys(harness: Harness) -> None:
    number = await _file_service_card(harness)
    with Session(harness.engine) as session:
        digests = set(session.exec(select(SearchKey.digest)).all())
    assert len(digests) > 10
    assert not any("测试" in d or "张" in d for d in digests), "hashes, never the text"
    assert crypto.keyed_hash("张测") in digests and crypto.keyed_hash("张") in digests
    for words in ("张测试", "测试", "张", "测试工作单位"):
        assert number in await _found(harness, words), words
    assert "没有找到" in await _found(harness, "李四")


async def test_an_erased_member_is_no_longer_found_by_name(harness: Harness) -> None:
    number = await _file_service_card(harness)
    await harness.say("/deleteme")
    await harness.press("确认删除")
    assert number not in await _found(harness, "张测试")
    assert number in await _found(harness, number[-6:]), "the number still finds it"


async def test_cases_filed_before_the_index_are_still_found(harness: Harness) -> None:
    number = await _file_service_card(harness)
    with Session(harness.engine) as session:
        session.execute(delete(SearchKey))
        session.commit()
    assert number in await _found(harness, "张测试"), "read directly"
    assert reindex(harness.engine) == 1
    assert number in await _found(harness, "张测试")


async def test_a_new_key_finds_through_the_old_keys_until_the_rotation(harness: Harness) -> None:
    number = await _file_service_card(harness)
    newer = new_key()
    crypto.configure([newer, TEST_KEY])  # `keys new --add` and a restart: not yet rotated
    try:
        assert number in await _found(harness, "张测试"), "the old key's hashes still count"
        reindex(harness.engine)  # what `keys rotate` ends with
        with Session(harness.engine) as session:
            stored = set(session.exec(select(SearchKey.digest)).all())
        assert crypto.keyed_hash("张测", key=0) in stored
        assert crypto.keyed_hash("张测", key=1) not in stored
        crypto.configure([newer])  # the old key removed
        assert number in await _found(harness, "张测试")
    finally:
        crypto.configure([TEST_KEY])


def test_a_case_with_nothing_to_search_by_keeps_only_its_marker() -> None:
    from storage.models import Case, CaseKind

    crypto.configure([TEST_KEY])
    assert len(keys_of(Case(kind=CaseKind.APPLICATION, member_id=1))) == 1


async def test_a_consultation_is_found_by_its_question(harness: Harness) -> None:
    from tests.handlers.conftest import DEMOCRATIC  # 2.3, safety at work
    from tests.handlers.test_staff_commands import _consult

    number = await _consult(harness, 700321, "车间粉尘太大，口罩也不发，工会能来查查吗")
    await _command(harness, DEMOCRATIC, "/search 口罩")
    found = harness.last(DEMOCRATIC)
    assert number in f"{found['text']} {_labels(found)}"
