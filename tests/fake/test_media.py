"""Images the fake makes and reads, the sizes Telegram keeps of a photo, and multipart bodies."""

from __future__ import annotations

import pytest

from bot.fake.media import image_size, make_jpeg, make_webp, parse_multipart, photo_dimensions


@pytest.mark.parametrize(("width", "height"), [(1, 1), (7, 9), (800, 600), (1280, 4000)])
def test_made_jpegs_read_back_at_their_size(width: int, height: int) -> None:
    data = make_jpeg(width, height, comment="合成照片")
    assert data.startswith(b"\xff\xd8\xff") and data.endswith(b"\xff\xd9")
    assert image_size(data) == ("jpeg", width, height)


def test_jpeg_dimensions_are_checked() -> None:
    with pytest.raises(ValueError, match=r"1\.\.65535"):
        make_jpeg(0, 10)


def test_webp_and_non_images() -> None:
    assert image_size(make_webp(512, 300)) == ("webp", 512, 300)
    assert image_size(b"%PDF-1.4 not an image") is None
    assert image_size(b"MZ\x90\x00" + bytes(64)) is None


def test_photo_sizes_follow_telegram() -> None:
    assert photo_dimensions(60, 40) == [(60, 40)]
    assert photo_dimensions(1000, 500) == [(90, 45), (320, 160), (800, 400), (1000, 500)]
    # Over 2560 on the long side, the largest size kept is scaled down to 2560.
    assert photo_dimensions(4000, 3000)[-1] == (2560, 1920)


def test_multipart_fields_and_files() -> None:
    body = (
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="chat_id"\r\n\r\n'
        b"-100123\r\n"
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="document"; filename="%E7%94%B3%E8%AF%B7.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n"
        b"%PDF-1.4\r\n\x00\xff\r\n"
        b"--XyZ--\r\n"
    )
    fields, files = parse_multipart(body, 'multipart/form-data; boundary="XyZ"')
    assert fields == {"chat_id": "-100123"}
    assert files == {"document": ("申请.pdf", b"%PDF-1.4\r\n\x00\xff", "application/pdf")}
    with pytest.raises(ValueError, match="boundary"):
        parse_multipart(body, "multipart/form-data")
