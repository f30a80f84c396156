"""Images and files: JPEG and WebP makers, image sizes, stored files and multipart bodies."""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from urllib.parse import unquote

from bot.fake.protocol import FileTuple


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def make_jpeg(width: int = 800, height: int = 600, *, comment: str = "") -> bytes:
    """A valid baseline grey JPEG of the given size (every block is flat mid-grey).

    The Huffman tables hold one code each, so each 8x8 block encodes as two zero bits.
    """
    if not (1 <= width <= 65535 and 1 <= height <= 65535):
        raise ValueError("JPEG dimensions must be 1..65535")
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    bits = 2 * blocks
    scan = bytearray(bits // 8)
    if bits % 8:
        scan.append(0xFF >> (bits % 8))  # pad the last byte with 1-bits
    if scan and scan[-1] == 0xFF:
        scan.append(0x00)  # byte stuffing
    parts = [
        b"\xff\xd8",
        _jpeg_segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
    ]
    if comment:
        parts.append(_jpeg_segment(0xFE, comment.encode("utf-8")[:60000]))
    parts += [
        _jpeg_segment(0xDB, b"\x00" + b"\x01" * 64),
        _jpeg_segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"),
        _jpeg_segment(0xC4, b"\x00" + b"\x01" + b"\x00" * 15 + b"\x00"),
        _jpeg_segment(0xC4, b"\x10" + b"\x01" + b"\x00" * 15 + b"\x00"),
        _jpeg_segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
        bytes(scan),
        b"\xff\xd9",
    ]
    return b"".join(parts)


def image_size(data: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) of a JPEG, PNG, GIF or WebP image, or None if it is not one."""
    if data[:3] == b"\xff\xd8\xff":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                return None
            marker = data[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            (length,) = struct.unpack(">H", data[i + 2 : i + 4])
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return ("jpeg", width, height) if width and height else None
            i += 2 + length
        return None
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return ("png", width, height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return ("gif", width, height)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8X":
            width = 1 + int.from_bytes(data[24:27], "little")
            height = 1 + int.from_bytes(data[27:30], "little")
            return ("webp", width, height)
        if chunk == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return ("webp", width & 0x3FFF, height & 0x3FFF)
        if chunk == b"VP8L":
            b0, b1, b2, b3 = data[21:25]
            width = 1 + (((b1 & 0x3F) << 8) | b0)
            height = 1 + (((b3 & 0x0F) << 10) | (b2 << 2) | ((b1 & 0xC0) >> 6))
            return ("webp", width, height)
    return None


def make_webp(width: int, height: int) -> bytes:
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00" * 4
    vp8x += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x


def photo_dimensions(width: int, height: int) -> list[tuple[int, int]]:
    """The sizes Telegram stores for a photo: thumbnails up to 90/320/800/1280, then the photo."""
    sizes: list[tuple[int, int]] = []
    longest = max(width, height)
    for limit in (90, 320, 800, 1280):
        if longest <= limit:
            break
        scale = limit / longest
        sizes.append((max(1, round(width * scale)), max(1, round(height * scale))))
    if longest > 2560:
        scale = 2560 / longest
        sizes.append((max(1, round(width * scale)), max(1, round(height * scale))))
    else:
        sizes.append((width, height))
    return sizes


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str  # photo, document, sticker, voice
    content: bytes
    size: int
    mime_type: str | None = None
    file_name: str | None = None
    width: int | None = None
    height: int | None = None
    file_path: str | None = None


FILE_ID_PREFIX = {"photo": "AgAC", "document": "BQAC", "sticker": "CAAC", "voice": "AwAC"}
TDLIB_FILE_TYPE = {
    "photo": "Photo",
    "document": "Document",
    "sticker": "Sticker",
    "voice": "Voice",
}


def parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, FileTuple]]:
    """Splits a multipart/form-data body into text fields and files (name, content, mime)."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise ValueError("multipart body without boundary")
    delimiter = b"--" + match.group(1).encode("latin-1")
    fields: dict[str, str] = {}
    files: dict[str, FileTuple] = {}
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        part = part.removeprefix(b"\r\n").removesuffix(b"\r\n")
        head, _, content = part.partition(b"\r\n\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name_match = re.search(r'(?:^|;)\s*name="((?:[^"\\]|\\.)*)"', disposition)
        if not name_match:
            continue
        name = unquote(name_match.group(1).replace('\\"', '"'))
        file_match = re.search(r'filename="((?:[^"\\]|\\.)*)"', disposition)
        if file_match:
            file_name = unquote(file_match.group(1).replace('\\"', '"'))
            mime = headers.get("content-type", "application/octet-stream")
            files[name] = (file_name, content, mime)
        else:
            fields[name] = content.decode("utf-8", "replace")
    return fields, files
