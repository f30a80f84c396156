"""Issue 12 §5: an upload is checked by what its bytes are, not by its name or the type the
sender's app declared, and staff receive documents under generated names."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from storage.models import Attachment, Case
from tests.factories import make_id_number, make_mobile
from tests.handlers.conftest import Harness
from tests.handlers.test_forms import _draft, _forms, fill, start

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64 + b"PE\x00\x00"
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


async def _at_the_id_photos(harness: Harness) -> None:
    form = _forms(harness)["service_card"]
    await start(harness, form)
    await harness.press("是")
    for answer in ("张测试", make_id_number(), make_mobile(), "测试单位", "测试单位工会"):
        await harness.say(answer)
    draft = _draft(harness)
    assert draft is not None and draft.current_field == "id_card_photo"


def _files(harness: Harness) -> list[Path]:
    folder = harness.app.bot_data["services"].files_dir
    return [p for p in Path(folder).rglob("*") if p.is_file()] if Path(folder).exists() else []


@pytest.mark.parametrize(("content", "what"), [(EXE, "a program"), (HTML, "a web page")])
async def test_a_file_that_is_not_what_it_claims_is_refused(
    harness: Harness, content: bytes, what: str
) -> None:
    await _at_the_id_photos(harness)
    sent = harness.fake.user_message(
        harness.member,
        document=("证件.pdf.exe" if content == EXE else "证件.pdf", content, "application/pdf"),
        enqueue=False,
    )
    await harness.process(sent)
    said = harness.last(harness.member.id)["text"]
    assert "实际内容" in said and "PDF" in said and "JPG" in said, what
    draft = _draft(harness)
    assert draft is not None and not draft.answers.get("id_card_photo")
    assert _files(harness) == []  # nothing of it kept
    with Session(harness.engine) as session:
        assert session.exec(select(Attachment)).first() is None


async def _names_staff_get(harness: Harness, *, lose_the_copy: bool = False) -> list[str]:
    """A PDF sent as 证件.pdf.exe, the application filed, and 查看材料 pressed: the names of
    the documents the staffer receives, and the case's number as the last item."""
    await _at_the_id_photos(harness)
    sent = harness.fake.user_message(
        harness.member, document=("证件.pdf.exe", PDF, "application/pdf"), enqueue=False
    )
    await harness.process(sent)
    with Session(harness.engine) as session:
        kept = session.exec(select(Attachment)).one()
    assert kept.mime_type == "application/pdf" and kept.path and "证件" not in kept.path
    await harness.press("完成")
    await fill(harness, _forms(harness)["service_card"])
    await harness.press("提交")
    if lose_the_copy:
        for path in _files(harness):
            path.unlink()
    with Session(harness.engine) as session:
        case = session.exec(select(Case)).one()
    assert case.card_message_id is not None and case.staff_chat_id is not None
    harness.fake.register_chat(harness.staffer.id, first_name=harness.staffer.first_name)
    before = len(harness.fake.bot_messages(harness.staffer.id))
    await harness.press_on(case.staff_chat_id, case.card_message_id, "查看材料")
    private = harness.fake.bot_messages(harness.staffer.id)[before:]
    return [m["document"]["file_name"] for m in private if "document" in m] + [case.number or ""]


async def test_staff_get_a_document_under_a_generated_name(harness: Harness) -> None:
    *names, number = await _names_staff_get(harness)
    assert names == [f"{number}-身份证照片-1.pdf"]


async def test_staff_get_a_generated_name_even_when_the_stored_copy_is_gone(
    harness: Harness,
) -> None:
    """A restore without the files directory: the bot fetches the file from Telegram again,
    checks it, and still sends it under the generated name, never the sender's."""
    *names, number = await _names_staff_get(harness, lose_the_copy=True)
    assert names == [f"{number}-身份证照片-1.pdf"]


# A Word 97-2003 file is an OLE compound file; its directory names the WordDocument stream.
OLE = bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 504
DOC = OLE + "Root Entry".encode("utf-16-le") + b"\x00" * 54 + "WordDocument".encode("utf-16-le")
XLS = OLE + "Root Entry".encode("utf-16-le") + b"\x00" * 54 + "Workbook".encode("utf-16-le")


async def _at_the_proofs(harness: Harness) -> None:
    form = _forms(harness)["hardship_aid"]
    await start(harness, form)
    await fill(harness, form, until="documents")


async def test_an_old_word_document_is_accepted_and_other_office_files_are_not(
    harness: Harness,
) -> None:
    await _at_the_proofs(harness)
    sent = harness.fake.user_message(
        harness.member, document=("诊断证明.doc", DOC, "application/msword"), enqueue=False
    )
    await harness.process(sent)
    with Session(harness.engine) as session:
        kept = session.exec(select(Attachment)).one()
    assert kept.mime_type == "application/msword"
    sent = harness.fake.user_message(
        harness.member, document=("收入证明.doc", XLS, "application/msword"), enqueue=False
    )
    await harness.process(sent)
    said = harness.last(harness.member.id)["text"]
    assert "实际内容" in said and "Word" in said
    with Session(harness.engine) as session:
        assert len(session.exec(select(Attachment)).all()) == 1
