"""The keys a process holds: an office's ring is read once and read again only when its file changed
(importing an RSA private key costs milliseconds, too much for every transfer)."""
from datetime import timedelta

from services.crypto.key_store import OfficeKeyStore
from services.infrastructure.db import utcnow
from services.keys.holder import Keys
from tests.conftest import make_keys


def test_a_ring_is_kept_until_its_file_changes(tmp_path):
    shared = make_keys()
    keys = Keys(OfficeKeyStore(tmp_path), shared.master, shared.signer, generate=True)
    now = utcnow()
    first = keys.ring("troisdorf-abh", now)
    assert keys.ring("troisdorf-abh", now) is first
    keys.offices.save(first.rotate(now, timedelta(days=30)))  # e.g. kimhub keys office rotate, another process
    rotated = keys.ring("troisdorf-abh", now)
    assert rotated is not first and rotated.sealing_key(now).kid != first.sealing_key(now).kid
