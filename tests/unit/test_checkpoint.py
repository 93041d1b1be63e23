"""Signed transfer-log checkpoints: C2SP signed-note + tlog-checkpoint with Ed25519."""
from __future__ import annotations

import base64
import hashlib

import pytest

from services.audit.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from services.audit.note_keys import NoteError, NoteSigner, NoteVerifier
from services.audit.signed_note import add_signature, open_note, sign_note

# Test vector from golang.org/x/mod/sumdb/note (note_test.go).
PN_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PN_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PN_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PN_NOTE = (
    PN_TEXT
    + "\n"
    + "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)

ORIGIN = "kimhub.example/transfer-log"
ROOT = hashlib.sha256(b"kimhub transfer log root").digest()


@pytest.fixture(scope="module")
def hub() -> NoteSigner:
    return NoteSigner.generate("kimhub.example/transfer-log")


@pytest.fixture(scope="module")
def dpo() -> NoteSigner:
    return NoteSigner.generate("dpo.kimhub.example")


def cp(size: int = 42, extensions: tuple[str, ...] = ("time 2024-05-01T12:00:00Z",)) -> Checkpoint:
    return Checkpoint(ORIGIN, size, ROOT, extensions)


def sig_lines(note: str) -> list[str]:
    return note[note.rindex("\n\n") + 2 :].splitlines()


# ---------------------------------------------------------------- the Go test vector


def test_vector_sign_reproduces_note() -> None:
    signer = NoteSigner.from_skey(PN_SKEY)
    assert signer.name == "PeterNeumann"
    assert signer.key_hash == bytes.fromhex("c74f20a3")
    assert signer.vkey == PN_VKEY
    assert signer.skey == PN_SKEY
    assert sign_note(PN_TEXT, signer) == PN_NOTE
    assert signer.sign(PN_TEXT) == PN_NOTE[len(PN_TEXT) + 1 :]


def test_vector_verifies() -> None:
    v = NoteVerifier.from_vkey(PN_VKEY)
    assert v.name == "PeterNeumann"
    assert v.key_hash == bytes.fromhex("c74f20a3")
    assert v.vkey == PN_VKEY
    assert open_note(PN_NOTE, [v]) == (PN_TEXT, ["PeterNeumann"])
    assert open_note(PN_NOTE.encode(), [v]) == (PN_TEXT, ["PeterNeumann"])
    raw = base64.b64decode(sig_lines(PN_NOTE)[0].split(" ")[2])
    assert raw[:4] == v.key_hash
    assert v.verify(PN_TEXT, raw[4:])
    assert not v.verify(PN_TEXT + "x\n", raw[4:])
    assert not v.verify(PN_TEXT, raw[4:-1])


def test_signer_repr_does_not_leak_private_key() -> None:
    s = NoteSigner.from_skey(PN_SKEY)
    assert "AYEKFALV" not in repr(s)
    assert "PRIVATE" not in repr(s)


def test_key_strings_round_trip(hub: NoteSigner) -> None:
    again = NoteSigner.from_skey(hub.skey)
    assert again.vkey == hub.vkey
    assert NoteVerifier.from_vkey(hub.vkey) == hub.verifier()
    # the same text signed by the re-parsed key gives the same (deterministic) note
    assert sign_note("x\n", again) == sign_note("x\n", hub)


# ---------------------------------------------------------------- checkpoints


@pytest.mark.parametrize(
    "extensions",
    [(), ("time 2024-05-01T12:00:00Z",), tuple(f"ext-{i} value {i}" for i in range(25))],
    ids=["no-extensions", "time", "many-extensions"],
)
@pytest.mark.parametrize("size", [0, 1, 42, 2**64 - 1])
def test_checkpoint_round_trip(hub: NoteSigner, size: int, extensions: tuple[str, ...]) -> None:
    c = Checkpoint(ORIGIN, size, ROOT, extensions)
    text = c.to_text()
    assert text.startswith(f"{ORIGIN}\n{size}\n{base64.b64encode(ROOT).decode()}\n")
    assert text.count("\n") == 3 + len(extensions)
    assert Checkpoint.from_text(text) == c
    note = sign_checkpoint(c, hub)
    assert open_checkpoint(note, [hub.verifier()], origin=ORIGIN) == c


def test_checkpoint_text_layout() -> None:
    c = Checkpoint("o", 7, bytes(32), ["time 2024-05-01T12:00:00Z"])
    assert c.extensions == ("time 2024-05-01T12:00:00Z",)  # list normalised to tuple
    assert c.to_text() == "o\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\ntime 2024-05-01T12:00:00Z\n"


def test_open_checkpoint_wrong_origin(hub: NoteSigner) -> None:
    note = sign_checkpoint(cp(), hub)
    with pytest.raises(NoteError, match="origin"):
        open_checkpoint(note, [hub.verifier()], origin="other.example/log")


def test_open_checkpoint_signed_non_checkpoint(hub: NoteSigner) -> None:
    note = sign_note("just some text\n", hub)
    with pytest.raises(NoteError, match="malformed checkpoint"):
        open_checkpoint(note, [hub.verifier()])


# ---------------------------------------------------------------- cosigning


def test_cosign_by_dpo(hub: NoteSigner, dpo: NoteSigner) -> None:
    note = sign_checkpoint(cp(), hub)
    assert open_checkpoint(note, [hub.verifier()], origin=ORIGIN) == cp()
    cosigned = add_signature(note, dpo)
    assert cosigned.startswith(note)
    assert len(sig_lines(cosigned)) == 2
    text, names = open_note(cosigned, [hub.verifier(), dpo.verifier()], require_all=True)
    assert text == cp().to_text()
    assert names == [hub.name, dpo.name]
    assert open_checkpoint(cosigned, [hub.verifier(), dpo.verifier()], ORIGIN, require_all=True) == cp()
    # either key alone suffices without require_all
    assert open_note(cosigned, [dpo.verifier()])[1] == [dpo.name]
    # a cosigned note equals signing with both at once
    assert cosigned == sign_note(cp().to_text(), hub, dpo)


def test_require_all_fails_when_cosignature_missing(hub: NoteSigner, dpo: NoteSigner) -> None:
    note = sign_checkpoint(cp(), hub)
    assert open_note(note, [hub.verifier(), dpo.verifier()])[1] == [hub.name]
    with pytest.raises(NoteError, match="not signed by required"):
        open_note(note, [hub.verifier(), dpo.verifier()], require_all=True)
    with pytest.raises(NoteError, match="not signed by required"):
        open_checkpoint(note, [hub.verifier(), dpo.verifier()], require_all=True)


def test_add_signature_refuses_duplicate_key(hub: NoteSigner, dpo: NoteSigner) -> None:
    note = add_signature(sign_checkpoint(cp(), hub), dpo)
    with pytest.raises(NoteError, match="already signed"):
        add_signature(note, dpo)
    with pytest.raises(NoteError, match="already signed"):
        add_signature(note, NoteSigner.from_skey(hub.skey))
    with pytest.raises(NoteError, match="duplicate signer"):
        sign_note("x\n", hub, NoteSigner.from_skey(hub.skey))


def test_add_signature_same_name_other_key_allowed(hub: NoteSigner) -> None:
    rotated = NoteSigner.generate(hub.name)
    note = add_signature(sign_checkpoint(cp(), hub), rotated)
    _, names = open_note(note, [hub.verifier(), rotated.verifier()], require_all=True)
    assert names == [hub.name]


def test_add_signature_rejects_malformed(dpo: NoteSigner) -> None:
    with pytest.raises(NoteError):
        add_signature(cp().to_text(), dpo)


def test_unknown_signatures_ignored(hub: NoteSigner, dpo: NoteSigner) -> None:
    stranger = NoteSigner.generate("someone.else")
    note = sign_note(cp().to_text(), stranger, hub)
    assert open_note(note, [hub.verifier()])[1] == [hub.name]
    # an unknown line with a non-Ed25519-length signature is also just ignored
    junk = "\u2014 other.alg " + base64.b64encode(b"\x00\x01\x02\x03" + b"z" * 10).decode() + "\n"
    assert open_note(note + junk, [hub.verifier()])[1] == [hub.name]


# ---------------------------------------------------------------- tampering


def flip_char(s: str, i: int) -> str:
    c = s[i]
    return s[:i] + ("B" if c != "B" else "C") + s[i + 1 :]


def test_tamper_text(hub: NoteSigner) -> None:
    note = sign_checkpoint(cp(), hub)
    bad = note.replace("time 2024-05-01", "time 2024-05-02")
    assert bad != note
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(bad, [hub.verifier()])
    bad_origin = note.replace("kimhub.example/transfer-log\n", "kimhub.example/transfer-loG\n", 1)
    with pytest.raises(NoteError, match="invalid signature"):
        open_checkpoint(bad_origin, [hub.verifier()])


def test_tamper_size(hub: NoteSigner) -> None:
    note = sign_checkpoint(cp(42), hub)
    bad = note.replace("\n42\n", "\n43\n", 1)
    assert bad != note
    with pytest.raises(NoteError, match="invalid signature"):
        open_checkpoint(bad, [hub.verifier()])


def test_tamper_root(hub: NoteSigner) -> None:
    note = sign_checkpoint(cp(), hub)
    root_b64 = base64.b64encode(ROOT).decode()
    other = base64.b64encode(bytes([ROOT[0] ^ 1]) + ROOT[1:]).decode()
    bad = note.replace(root_b64, other, 1)
    assert bad != note
    with pytest.raises(NoteError, match="invalid signature"):
        open_checkpoint(bad, [hub.verifier()])


def test_tamper_signature_bytes(hub: NoteSigner) -> None:
    note = sign_checkpoint(cp(), hub)
    line = sig_lines(note)[0]
    prefix, b64 = line.rsplit(" ", 1)
    raw = bytearray(base64.b64decode(b64))
    raw[10] ^= 0x40
    bad = note.replace(line, prefix + " " + base64.b64encode(bytes(raw)).decode())
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(bad, [hub.verifier()])


def test_swap_signature_base64_between_lines(hub: NoteSigner, dpo: NoteSigner) -> None:
    note = sign_note(cp().to_text(), hub, dpo)
    (l1, l2) = sig_lines(note)
    p1, b1 = l1.rsplit(" ", 1)
    p2, b2 = l2.rsplit(" ", 1)
    # whole base64 swapped: key hashes no longer match the names -> no known signature
    swapped = note.replace(l1 + "\n" + l2, f"{p1} {b2}\n{p2} {b1}")
    with pytest.raises(NoteError, match="no signature by any known key"):
        open_note(swapped, [hub.verifier(), dpo.verifier()])
    # signature bytes swapped but key hashes kept -> invalid signature by a known key
    r1, r2 = base64.b64decode(b1), base64.b64decode(b2)
    s1 = base64.b64encode(r1[:4] + r2[4:]).decode()
    s2 = base64.b64encode(r2[:4] + r1[4:]).decode()
    swapped = note.replace(l1 + "\n" + l2, f"{p1} {s1}\n{p2} {s2}")
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(swapped, [hub.verifier(), dpo.verifier()])


def test_wrong_key_same_name(hub: NoteSigner) -> None:
    impostor = NoteSigner.generate(hub.name)
    assert impostor.key_hash != hub.key_hash
    note = sign_checkpoint(cp(), impostor)
    with pytest.raises(NoteError, match="no signature by any known key"):
        open_checkpoint(note, [hub.verifier()])
    # impostor's signature line relabelled with the real key hash -> invalid signature
    line = sig_lines(note)[0]
    prefix, b64 = line.rsplit(" ", 1)
    forged = prefix + " " + base64.b64encode(hub.key_hash + base64.b64decode(b64)[4:]).decode()
    with pytest.raises(NoteError, match="invalid signature"):
        open_checkpoint(note.replace(line, forged), [hub.verifier()])


def test_unknown_key_only(hub: NoteSigner) -> None:
    note = sign_checkpoint(cp(), NoteSigner.generate("someone.else"))
    with pytest.raises(NoteError, match="no signature by any known key"):
        open_checkpoint(note, [hub.verifier()])
    with pytest.raises(NoteError, match="no signature by any known key"):
        open_note(note, [])


def test_duplicated_invalid_line_by_known_key_is_error(hub: NoteSigner) -> None:
    note = sign_checkpoint(cp(), hub)
    line = sig_lines(note)[0]
    prefix, b64 = line.rsplit(" ", 1)
    raw = bytearray(base64.b64decode(b64))
    raw[-1] ^= 1
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(note + prefix + " " + base64.b64encode(bytes(raw)).decode() + "\n", [hub.verifier()])


# ---------------------------------------------------------------- malformed notes


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda n: n.replace("\n\n", "\n", 1), "no blank line"),
        (lambda n: n[:-1], "newline"),
        (lambda n: n + "\n", "no signature lines|newline|start with"),
        (lambda n: n.replace("\u2014 ", "- ", 1), "em dash"),
        (lambda n: n.replace("\u2014 ", "\u2013 ", 1), "em dash"),
        (lambda n: n.replace("=\n", "\n"), "base64"),
        (lambda n: n.replace("=\n", "!=\n"), "base64"),
        (lambda n: n.replace("\n\n", "\n\x07\n", 1), "control character"),
        (lambda n: n.replace("\n", "\r\n"), "control character"),
        (lambda n: n.replace(ORIGIN, ORIGIN + "\t"), "control character"),
        (lambda n: n.rsplit(" ", 1)[0] + "\n", "no signature after"),
        (lambda n: n.rsplit(" ", 1)[0] + " AAAA\n", "too short"),
        (lambda n: n.replace("\u2014 ", "\u2014 a+b ", 1), r"\+|signature"),
    ],
    ids=[
        "no-blank-line",
        "missing-trailing-newline",
        "trailing-blank-line",
        "ascii-dash",
        "en-dash",
        "unpadded-base64",
        "bad-base64-char",
        "bell",
        "crlf",
        "tab",
        "no-signature",
        "short-signature",
        "plus-in-name",
    ],
)
def test_malformed_notes(hub: NoteSigner, mutate, message: str) -> None:
    note = sign_checkpoint(cp(), hub)
    bad = mutate(note)
    assert bad != note
    with pytest.raises(NoteError, match=message):
        open_note(bad, [hub.verifier()])


def test_too_many_signatures(hub: NoteSigner) -> None:
    text = cp().to_text()
    strangers = [NoteSigner.generate(f"s{i}") for i in range(100)]
    note = sign_note(text, *strangers)
    with pytest.raises(NoteError, match="more than 100"):
        open_note(note + hub.sign(text), [hub.verifier()])
    with pytest.raises(NoteError, match="at most 100"):
        add_signature(note, hub)
    assert open_note(sign_note(text, *strangers[:99], hub), [hub.verifier()])[1] == [hub.name]


def test_invalid_utf8_bytes(hub: NoteSigner) -> None:
    note = sign_checkpoint(cp(), hub).encode()
    with pytest.raises(NoteError, match="UTF-8"):
        open_note(note.replace(b"kimhub", b"kim\xffhub", 1), [hub.verifier()])


@pytest.mark.parametrize(
    "text",
    ["no newline at end", "", "ctrl \x1b char\n", "del \x7f char\n", "surrogate \udc80\n"],
    ids=["no-newline", "empty", "escape", "del", "lone-surrogate"],
)
def test_sign_rejects_bad_text(hub: NoteSigner, text: str) -> None:
    with pytest.raises(NoteError):
        sign_note(text, hub)


def test_sign_note_needs_a_signer() -> None:
    with pytest.raises(ValueError, match="at least one signer"):
        sign_note("x\n")


# ---------------------------------------------------------------- malformed checkpoints

GOOD_ROOT = base64.b64encode(ROOT).decode()


@pytest.mark.parametrize(
    "text, message",
    [
        (f"{ORIGIN}\n42\n{GOOD_ROOT}", "end with a newline"),
        (f"{ORIGIN}\n42\n", "at least 3 lines"),
        (f"\n42\n{GOOD_ROOT}\n", "origin is empty"),
        (f"{ORIGIN}\n042\n{GOOD_ROOT}\n", "leading zeros"),
        (f"{ORIGIN}\n00\n{GOOD_ROOT}\n", "leading zeros"),
        (f"{ORIGIN}\n+42\n{GOOD_ROOT}\n", "decimal"),
        (f"{ORIGIN}\n-1\n{GOOD_ROOT}\n", "decimal"),
        (f"{ORIGIN}\n 42\n{GOOD_ROOT}\n", "decimal"),
        (f"{ORIGIN}\n4_2\n{GOOD_ROOT}\n", "decimal"),
        (f"{ORIGIN}\n\u0664\u0662\n{GOOD_ROOT}\n", "decimal"),
        (f"{ORIGIN}\n\n{GOOD_ROOT}\n", "decimal"),
        (f"{ORIGIN}\n{2**64}\n{GOOD_ROOT}\n", "exceeds"),
        (f"{ORIGIN}\n42\n{base64.b64encode(ROOT[:31]).decode()}\n", "32 bytes"),
        (f"{ORIGIN}\n42\n{base64.b64encode(ROOT + b'x').decode()}\n", "32 bytes"),
        (f"{ORIGIN}\n42\n{GOOD_ROOT.rstrip('=')}\n", "base64"),
        (f"{ORIGIN}\n42\n{GOOD_ROOT[:-2]}B=\n", "canonical|base64"),
        (f"{ORIGIN}\n42\n{GOOD_ROOT.replace('+', '-').replace('/', '_')}x\n", "base64"),
        (f"{ORIGIN}\n42\n{GOOD_ROOT}\n\n", "extension line 1 is empty"),
        (f"{ORIGIN}\n42\n{GOOD_ROOT}\ntime x\n\nmore\n", "extension line 2 is empty"),
        (f"{ORIGIN}\x00\n42\n{GOOD_ROOT}\n", "control character"),
        (f"{ORIGIN}\n42\n{GOOD_ROOT}\ntime\tx\n", "control character"),
    ],
)
def test_checkpoint_from_text_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Checkpoint.from_text(text)


def test_checkpoint_from_text_line_separators_are_not_newlines() -> None:
    # U+2028 / U+0085 are not line ends in a note; they stay inside the origin line
    c = Checkpoint.from_text(f"a\u2028b\u0085c\n1\n{GOOD_ROOT}\n")
    assert c.origin == "a\u2028b\u0085c"


@pytest.mark.parametrize(
    "kwargs, exc, message",
    [
        (dict(origin="", size=1, root=ROOT), ValueError, "origin is empty"),
        (dict(origin="a\nb", size=1, root=ROOT), ValueError, "control character"),
        (dict(origin=ORIGIN, size=-1, root=ROOT), ValueError, "out of range"),
        (dict(origin=ORIGIN, size=2**64, root=ROOT), ValueError, "out of range"),
        (dict(origin=ORIGIN, size=True, root=ROOT), TypeError, "int"),
        (dict(origin=ORIGIN, size=1, root=ROOT[:16]), ValueError, "32 bytes"),
        (dict(origin=ORIGIN, size=1, root=GOOD_ROOT), TypeError, "bytes"),
        (dict(origin=ORIGIN, size=1, root=ROOT, extensions=("",)), ValueError, "empty"),
        (dict(origin=ORIGIN, size=1, root=ROOT, extensions=("a\nb",)), ValueError, "control"),
        (dict(origin=ORIGIN, size=1, root=ROOT, extensions="time x"), TypeError, "not a str"),
    ],
)
def test_checkpoint_constructor_validates(kwargs, exc, message: str) -> None:
    with pytest.raises(exc, match=message):
        Checkpoint(**kwargs)


def test_signed_malformed_checkpoint_rejected(hub: NoteSigner) -> None:
    note = sign_note(f"{ORIGIN}\n042\n{GOOD_ROOT}\n", hub)
    with pytest.raises(NoteError, match="leading zeros"):
        open_checkpoint(note, [hub.verifier()])


# ---------------------------------------------------------------- key names and key strings


@pytest.mark.parametrize(
    "name", ["", "a+b", "a b", "a\tb", "a\u00a0b", "a\u3000b", "a\nb", "a\x00b"],
    ids=["empty", "plus", "space", "tab", "nbsp", "ideographic-space", "newline", "nul"],
)
def test_bad_key_names_rejected(name: str) -> None:
    with pytest.raises(ValueError):
        NoteSigner.generate(name)
    with pytest.raises(ValueError):
        NoteVerifier(name, bytes(32))


def test_unicode_key_name_allowed() -> None:
    s = NoteSigner.generate("datenschutz.bürgeramt")
    note = sign_note("x\n", s)
    assert open_note(note, [NoteVerifier.from_vkey(s.vkey)])[1] == ["datenschutz.bürgeramt"]


@pytest.mark.parametrize(
    "vkey, message",
    [
        ("PeterNeumann+c74f20a3", "malformed"),
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "mismatch"),
        ("PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 hex"),
        ("PeterNeumann+c74f20ag+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 hex"),
        ("PeterNeuman+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "mismatch"),
        ("PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "base64|33 bytes"),
        ("PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key type"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "whitespace"),
        ("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "empty"),
    ],
)
def test_bad_vkeys_rejected(vkey: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NoteVerifier.from_vkey(vkey)


@pytest.mark.parametrize(
    "skey",
    [
        "PRIVATE+KEY+PeterNeumann+c74f20a3",
        "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEYS+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AoEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
    ],
    ids=["truncated", "hash-mismatch", "bad-prefix", "vkey-not-skey", "bad-key-type"],
)
def test_bad_skeys_rejected(skey: str) -> None:
    with pytest.raises(ValueError) as info:
        NoteSigner.from_skey(skey)
    assert "AYEKFALV" not in str(info.value) and "AoEKFALV" not in str(info.value)


def test_same_verifier_given_twice(hub: NoteSigner) -> None:
    note = sign_checkpoint(cp(), hub)
    # the same key twice is fine
    assert open_note(note, [hub.verifier(), NoteVerifier.from_vkey(hub.vkey)], require_all=True)[1] == [hub.name]
