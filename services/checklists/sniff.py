"""Media type of an uploaded document from its content (magic bytes), never from its name.

Only the types a checklist document may have are recognised; anything else is None. The signature
must be at the very start of the data (a PDF with leading junk is not accepted).
"""
from __future__ import annotations

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"

ACCEPTED_MEDIA_TYPES = frozenset({PDF, JPEG, PNG})

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", PDF),
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
)


def sniff_media_type(data: bytes | bytearray | memoryview) -> str | None:
    head = bytes(data[:8])
    for signature, media_type in _SIGNATURES:
        if head.startswith(signature):
            return media_type
    return None
