"""The person layer and crypto-shredding: person keys stored only wrapped, rotated, rewrapped under a new
master key, and destroyed so that no stored copy of a person's payloads opens again."""
import base64
import itertools
import os
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.crypto.errors import KeyDestroyed, KeyFileExposed, KeyReleaseRefused, MasterKeyMissing, SealBroken
from services.crypto.layers import open_layers, open_office_layer, seal_layers
from services.crypto.office_keys import OfficeKeyRing
from services.crypto.person_keys import LocalMasterKey, PersonKey, PersonKeys, WrappedKey
from services.crypto.seal import open_for_person, person_key_id, seal_for_office, seal_for_person

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
ANNA = "Anna Beispiel, geb. 01.02.1990, Asylverfahren".encode()
BORIS = "Boris Muster, Wohnsitz Troisdorf".encode()


class FakePersonKeyRepository:
    """The repository protocol over a dict, in insertion order (the SQL one orders by created_at)."""

    def __init__(self):
        self.rows: dict[str, WrappedKey] = {}
        self._order = itertools.count()
        self._seq: dict[str, int] = {}

    async def current(self, person):
        mine = [w for w in self.rows.values() if w.person == person]
        return max(mine, key=lambda w: (w.created_at, self._seq[w.kid]), default=None)

    async def by_kid(self, kid):
        return self.rows.get(kid)

    async def add(self, wrapped):
        assert wrapped.kid not in self.rows
        self.rows[wrapped.kid] = wrapped
        self._seq[wrapped.kid] = next(self._order)

    async def destroy(self, person):
        gone = [kid for kid, w in self.rows.items() if w.person == person]
        for kid in gone:
            del self.rows[kid]
        return len(gone)

    async def all_wrapped_by(self, master_kid):
        return [w for w in self.rows.values() if w.master_kid == master_kid]

    async def replace(self, wrapped):
        assert wrapped.kid in self.rows
        self.rows[wrapped.kid] = wrapped


@pytest.fixture(scope="module")
def ring():
    return OfficeKeyRing.generate("rsk-abh", T0)


@pytest.fixture
def repo():
    return FakePersonKeyRepository()


@pytest.fixture
def master():
    return LocalMasterKey(os.urandom(32))


async def test_a_persons_first_key_is_created_once_and_stored_only_wrapped(repo, master):
    keys = PersonKeys(repo, master)
    first = await keys.for_sealing("person-a", T0)
    assert (await keys.for_sealing("person-a", T0 + timedelta(hours=1))).kid == first.kid
    assert (await keys.for_sealing("person-b", T0)).kid != first.kid
    row = repo.rows[first.kid]
    assert row.master_kid == master.kid and first.secret not in row.wrapped
    assert "person-a" not in first.kid


async def test_a_payload_round_trips_through_both_layers(repo, master, ring):
    keys = PersonKeys(repo, master)
    token = seal_layers(ANNA, await keys.for_sealing("person-a", T0), ring, T0)
    assert await open_layers(token, ring, keys) == ANNA
    assert b"Anna" not in token.encode()
    inner = open_office_layer(token, ring)
    assert person_key_id(inner) == (await keys.for_sealing("person-a", T0)).kid
    assert b"Anna" not in inner.encode()


async def test_a_destroyed_person_key_shreds_every_stored_copy_and_only_that_persons(repo, master, ring):
    keys = PersonKeys(repo, master)
    stored = [seal_layers(ANNA, await keys.for_sealing("person-a", T0), ring, T0) for _ in range(3)]
    await keys.rotate("person-a", T0 + timedelta(days=1))
    stored.append(seal_layers(ANNA, await keys.for_sealing("person-a", T0 + timedelta(days=1)), ring, T0))
    boris = seal_layers(BORIS, await keys.for_sealing("person-b", T0), ring, T0)

    assert await keys.destroy("person-a") == 2
    for process in (keys, PersonKeys(repo, master)):  # this process, and another one that starts afresh
        for token in stored:
            with pytest.raises(KeyDestroyed) as gone:
                await open_layers(token, ring, process)
            assert "person-a" not in str(gone.value)
        assert await open_layers(boris, ring, process) == BORIS
    assert {w.person for w in repo.rows.values()} == {"person-b"}


async def test_after_destruction_the_person_gets_a_new_key_that_opens_nothing_old(repo, master, ring):
    keys = PersonKeys(repo, master)
    old = seal_layers(ANNA, await keys.for_sealing("person-a", T0), ring, T0)
    await keys.destroy("person-a")
    fresh = await keys.for_sealing("person-a", T0 + timedelta(days=1))
    assert fresh.kid != person_key_id(open_office_layer(old, ring))
    with pytest.raises(SealBroken):
        open_for_person(open_office_layer(old, ring), fresh)


async def test_rotation_seals_new_content_under_a_new_key_and_old_content_still_opens(repo, master, ring):
    keys = PersonKeys(repo, master)
    before = seal_layers(ANNA, await keys.for_sealing("person-a", T0), ring, T0)
    rotated = await keys.rotate("person-a", T0 + timedelta(days=1))
    assert (await keys.for_sealing("person-a", T0 + timedelta(days=2))).kid == rotated.kid
    after = seal_layers(ANNA, rotated, ring, T0)
    assert person_key_id(open_office_layer(after, ring)) == rotated.kid
    assert person_key_id(open_office_layer(before, ring)) != rotated.kid
    assert await open_layers(before, ring, keys) == await open_layers(after, ring, keys) == ANNA


async def test_master_rewrap_keeps_every_key_opening(repo, master, ring):
    keys = PersonKeys(repo, master)
    tokens = {p: seal_layers(p.encode(), await keys.for_sealing(p, T0), ring, T0) for p in ("a", "b", "c")}
    await keys.rotate("a", T0 + timedelta(days=1))
    new_master = LocalMasterKey(os.urandom(32))
    assert await keys.rewrap(new_master) == 4
    assert {w.master_kid for w in repo.rows.values()} == {new_master.kid}
    only_the_new_master = PersonKeys(repo, new_master)
    for person, token in tokens.items():
        assert await open_layers(token, ring, only_the_new_master) == person.encode()
        assert await open_layers(token, ring, keys) == person.encode()
    with pytest.raises(MasterKeyMissing):
        await PersonKeys(repo, master).for_opening(person_key_id(open_office_layer(tokens["a"], ring)))


async def test_a_process_still_on_the_old_master_unwraps_with_it_as_previous(repo, master):
    keys = PersonKeys(repo, master)
    kid = (await keys.for_sealing("a", T0)).kid
    new_master = LocalMasterKey(os.urandom(32))
    await keys.rewrap(new_master)
    assert (await PersonKeys(repo, master, previous=[new_master]).for_opening(kid)).kid == kid


async def test_a_tampered_wrapped_key_does_not_unwrap(repo, master):
    keys = PersonKeys(repo, master)
    kid = (await keys.for_sealing("a", T0)).kid
    row = repo.rows[kid]
    await repo.replace(WrappedKey(kid, "a", row.master_kid, bytes([row.wrapped[0] ^ 1]) + row.wrapped[1:],
                                  row.created_at))
    with pytest.raises(MasterKeyMissing):
        await keys.for_opening(kid)


async def test_an_unknown_kid_is_destroyed(repo, master):
    with pytest.raises(KeyDestroyed):
        await PersonKeys(repo, master).for_opening("pk-never-issued")


class FakeConsents:
    """Consent versions by id: (person, recipient office, revoked)."""

    def __init__(self):
        self.versions = {"c-anna": ("person-a", "rsk-abh", False), "c-boris": ("person-b", "rsk-abh", False)}

    def release_for(self, consent_id: str, recipient: str):
        """The key release check for one item: its consent reference must name the key's person and the
        recipient, and must not be revoked at the moment of opening."""
        async def release(wrapped: WrappedKey) -> None:
            found = self.versions.get(consent_id)
            if found is None or found[0] != wrapped.person or found[1] != recipient:
                raise KeyReleaseRefused("consent_not_matching")
            if found[2]:
                raise KeyReleaseRefused("consent_revoked")
        return release


async def test_the_key_is_released_only_against_a_consent_that_covers_the_item(repo, master, ring):
    keys, consents = PersonKeys(repo, master), FakeConsents()
    token = seal_layers(ANNA, await keys.for_sealing("person-a", T0), ring, T0)
    assert await open_layers(token, ring, keys, consents.release_for("c-anna", "rsk-abh")) == ANNA
    for forged in (consents.release_for("c-boris", "rsk-abh"), consents.release_for("c-made-up", "rsk-abh"),
                   consents.release_for("c-anna", "me-abh")):
        with pytest.raises(KeyReleaseRefused) as refused:
            await open_layers(token, ring, keys, forged)
        assert refused.value.reason == "consent_not_matching"
    consents.versions["c-anna"] = ("person-a", "rsk-abh", True)  # revoked after the delivery
    with pytest.raises(KeyReleaseRefused) as revoked:
        await open_layers(token, ring, keys, consents.release_for("c-anna", "rsk-abh"))
    assert revoked.value.reason == "consent_revoked"


async def test_a_refusing_release_sees_no_secret_and_nothing_is_unwrapped(repo, ring):
    class CountingMaster(LocalMasterKey):
        unwrapped = 0

        def unwrap(self, wrapped):
            CountingMaster.unwrapped += 1
            return super().unwrap(wrapped)

    keys, seen = PersonKeys(repo, CountingMaster(os.urandom(32))), []
    kid = (await keys.for_sealing("person-a", T0)).kid

    async def refuse(wrapped):
        seen.append(wrapped)
        raise KeyReleaseRefused("consent_revoked")
    with pytest.raises(KeyReleaseRefused):
        await keys.for_opening(kid, refuse)
    assert CountingMaster.unwrapped == 0 and seen[0].kid == kid and not hasattr(seen[0], "secret")


# the person layer alone


def _key(kid="pk-1"):
    return PersonKey(kid, "person-a", os.urandom(32))


def test_a_person_key_hides_its_secret_and_has_256_bits():
    key = _key()
    assert key.secret.hex() not in repr(key) and "secret" not in repr(key)
    with pytest.raises(ValueError):
        PersonKey("pk", "p", b"short")


def test_the_person_layer_opens_only_under_its_key():
    key = _key()
    token = seal_for_person(ANNA, key)
    assert open_for_person(token, key) == ANNA and person_key_id(token) == "pk-1"
    with pytest.raises(SealBroken) as other:
        open_for_person(token, _key("pk-2"))
    assert other.value.reason == "unknown_key"
    with pytest.raises(SealBroken) as same_kid:
        open_for_person(token, _key("pk-1"))
    assert same_kid.value.reason == "decryption_failed"


@pytest.mark.parametrize("part", [2, 3, 4], ids=["iv", "ciphertext", "tag"])
def test_a_tampered_person_token_does_not_open(part):
    key = _key()
    parts = seal_for_person(ANNA, key).split(".")
    mid = len(parts[part]) // 2
    parts[part] = parts[part][:mid] + ("A" if parts[part][mid] != "A" else "B") + parts[part][mid + 1:]
    with pytest.raises(SealBroken):
        open_for_person(".".join(parts), key)


def test_an_office_token_is_not_a_person_token(ring):
    with pytest.raises(SealBroken) as broken:
        person_key_id(seal_for_office(b"x", ring, T0))
    assert broken.value.reason == "algorithm"
    with pytest.raises(SealBroken):
        open_office_layer(seal_for_office(b"\xff\xfe", ring, T0), ring)


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=8192))
def test_any_bytes_round_trip_the_person_layer(plaintext):
    key = _key()
    assert open_for_person(seal_for_person(plaintext, key), key) == plaintext


# the local master key


def test_the_local_master_key_reads_hex_and_base64_of_32_bytes():
    secret = os.urandom(32)
    kids = {LocalMasterKey.from_text(t).kid for t in (
        secret.hex(), base64.b64encode(secret).decode(), base64.urlsafe_b64encode(secret).decode().rstrip("="))}
    assert kids == {LocalMasterKey(secret).kid}
    for bad in ("00" * 16, "zz" * 32, base64.b64encode(os.urandom(16)).decode()):
        with pytest.raises(ValueError):
            LocalMasterKey.from_text(bad)
    assert secret.hex() not in repr(LocalMasterKey(secret))


def test_the_master_key_file_is_created_0600_and_refused_when_others_may_read(tmp_path):
    path = tmp_path / "dev" / "master.key"
    created = LocalMasterKey.ensure_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert LocalMasterKey.ensure_file(path).kid == created.kid
    os.chmod(path, 0o640)
    with pytest.raises(KeyFileExposed):
        LocalMasterKey.from_file(path)
