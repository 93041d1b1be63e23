"""Media type sniffing by content (services/checklists/sniff.py): the name never counts."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.checklists.sniff import ACCEPTED_MEDIA_TYPES, sniff_media_type

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
PNG = (b"\x89PNG\r\n\x1a\n" b"\x00\x00\x00\rIHDR" b"\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
       b"\x90wS\xde")
SIGNATURES = (b"%PDF-", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(
    ("data", "media_type"),
    [(PDF, "application/pdf"), (JPEG, "image/jpeg"), (PNG, "image/png"),
     (b"%PDF-", "application/pdf"), (b"\xff\xd8\xff", "image/jpeg")],
)
def test_known_types(data: bytes, media_type: str) -> None:
    assert sniff_media_type(data) == media_type
    assert media_type in ACCEPTED_MEDIA_TYPES


def test_content_wins_over_the_file_name(tmp_path: Path) -> None:
    renamed = tmp_path / "reisepass.pdf"
    renamed.write_bytes(PNG)
    assert sniff_media_type(renamed.read_bytes()) == "image/png"
    disguised = tmp_path / "scan.jpg"
    disguised.write_bytes(b"MZ\x90\x00" + b"\x00" * 60)  # a Windows executable
    assert sniff_media_type(disguised.read_bytes()) is None


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"%PD",  # truncated signature
        b"%pdf-1.4",  # case matters
        b" %PDF-1.4",  # leading junk is not accepted
        b"\xff\xd8",  # truncated JPEG
        b"\x89PNG\r\n\x1a",  # truncated PNG
        b"\x89PNG\n\r\x1a\n",  # line endings mangled in transfer
        b"GIF89a\x01\x00",
        b"PK\x03\x04",  # zip / docx
        b"II*\x00",  # TIFF
        b"<html><body>%PDF-</body></html>",
        "Reisepass".encode(),
    ],
)
def test_anything_else_is_none(data: bytes) -> None:
    assert sniff_media_type(data) is None


def test_accepts_bytearray_and_memoryview() -> None:
    assert sniff_media_type(bytearray(PNG)) == "image/png"
    assert sniff_media_type(memoryview(PDF)) == "application/pdf"


@given(st.binary(max_size=64).filter(lambda b: not b.startswith(SIGNATURES)))
def test_random_bytes_are_none(data: bytes) -> None:
    assert sniff_media_type(data) is None


@given(st.sampled_from(SIGNATURES), st.binary(max_size=64))
def test_signature_then_anything_is_recognised(signature: bytes, rest: bytes) -> None:
    assert sniff_media_type(signature + rest) in ACCEPTED_MEDIA_TYPES
