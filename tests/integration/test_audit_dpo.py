"""The data-protection officer's side of the audit context on a real database, through the views and
handlers with a real unit of work: queries, proofs that verify, the export, checkpoints and their
cosignatures, the access report (which signs a checkpoint first and publishes it)."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from services.audit import handlers, merkle, views
from services.audit.checkpoint import open_checkpoint
from services.audit.checkpointer import Checkpointer
from services.audit.commands import AddCosignature, ReportAccess
from services.audit.note_keys import NoteSigner, NoteVerifier
from services.audit.record import ConsentLogRecord, TransferLogRecord
from services.audit.signed_note import add_signature
from services.audit.views import LogFilter
from services.infrastructure import topics
from services.infrastructure.db import utcnow
from services.infrastructure.tables import outbox
from services.kernel.errors import Conflict, InvalidInput, NotFound
from services.kernel.identity import Actor, Role
from services.kernel.settings import Settings
from services.unit_of_work import HubUnitOfWork
from tests.conftest import TEST_DPO_SKEY, TEST_DPO_VKEY, TEST_SIGNING_KEY, make_audit_log
from tests.integration.private_db import any_engine, private_engine, sqlite_engine  # noqa: F401  (fixtures)

AUDIT = make_audit_log()
SIGNER = NoteSigner.from_skey(TEST_SIGNING_KEY)
DPO_KEY = NoteVerifier.from_vkey(TEST_DPO_VKEY)
ORIGIN = "kimhub-test/transfer-log"
SETTINGS = Settings(log_origin=ORIGIN)
DPO = Actor("dsb.rsk", "rsk-kim", roles=frozenset({Role.DPO}))
B64 = base64.b64decode
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)


def uow(engine) -> HubUnitOfWork:
    return HubUnitOfWork(engine, AUDIT)


def _records(n: int):
    """Persons p-0…p-4; every fourth record a consent, the others transfers rsk-kim -> troisdorf-abh."""
    for i in range(n):
        person, at = f"p-{i % 5:032x}", T0 + timedelta(minutes=i)
        if i % 4 == 0:
            yield ConsentLogRecord(recorded_at=at, event="granted", consent_id=f"c-{i:032x}", consent_version=1,
                                   person=person, office="rsk-kim", recorded_by="cm.rsk", municipality="05382068",
                                   provisions=({"recipient": {"kind": "abh"}, "purposes": ["einbuergerung"],
                                                "categories": ["stammdaten"]},),
                                   valid_from=T0, evidence_sha256="ab" * 32, form_version="F1")
        else:
            yield TransferLogRecord(recorded_at=at, transfer_id=f"t-{i:032x}", message_type="referral.v1",
                                    sender_office="rsk-kim", sender_user="cm.rsk", recipient_office="troisdorf-abh",
                                    person=person, purpose="einbuergerung", decision="delivered", stage="delivery",
                                    categories_sent=("falldaten",), payload_sha256=f"{i:064x}")


async def _append(engine, n: int) -> int:
    """Append ``n`` records (persons p-0…p-4, every fourth a consent); the log's size afterwards."""
    async with engine.begin() as conn:
        size = (await AUDIT.append_many(conn, list(_records(n))))[-1] + 1
    return size


async def _signed(engine, n: int = 8) -> dict:
    """``n`` more records and a checkpoint over them: the latest checkpoint as the DPO sees it."""
    await _append(engine, n)
    await Checkpointer(engine, SIGNER, ORIGIN, 1).checkpoint()
    return await views.checkpoint(uow(engine), DPO)


async def test_transfers_and_totals_filter_by_person_office_and_decision(any_engine, directory):
    await _append(any_engine, 8)
    person = f"p-{1:032x}"
    found = await views.transfers(uow(any_engine), DPO, directory, LogFilter(person=person, kind="transfer"))
    assert found["total"] >= 1 and found["total"] == len(found["records"])
    assert {r["person"] for r in found["records"]} == {AUDIT.pseudonym(person)}  # keyed, never the hub's own
    assert all(r["kind"] == "transfer" for r in found["records"])
    page = await views.transfers(uow(any_engine), DPO, directory, LogFilter(), after_seq=found["records"][0]["seq"],
                                 limit=1)
    assert [r["seq"] for r in page["records"]] == [found["records"][0]["seq"] + 1]

    totals = (await views.totals(uow(any_engine), DPO, directory, LogFilter(office="troisdorf-abh")))["totals"]
    assert [(t["sender_office"], t["recipient_office"], t["decision"]) for t in totals] == [
        ("rsk-kim", "troisdorf-abh", "delivered")]


async def test_a_filter_names_a_known_office_and_a_forward_time_range(any_engine, directory):
    with pytest.raises(InvalidInput, match="Unbekannte Stelle") as unknown:
        await views.transfers(uow(any_engine), DPO, directory, LogFilter(office="nowhere"))
    assert unknown.value.field == "office"
    now = utcnow()
    with pytest.raises(InvalidInput, match="'until' muss nach 'since' liegen"):
        await views.totals(uow(any_engine), DPO, directory, LogFilter(since=now, until=now - timedelta(1)))


async def test_proofs_against_signed_checkpoints_verify(any_engine, directory):
    first = await _signed(any_engine)
    second = await _signed(any_engine)
    assert open_checkpoint(second["note"], [SIGNER.verifier()]).size == second["size"]

    one = await views.inclusion(uow(any_engine), DPO, directory, 3, None)
    assert one["tree_size"] == second["size"]
    assert merkle.verify_inclusion(B64(one["leaf_hash"]), 3, second["size"], [B64(h) for h in one["proof"]],
                                   B64(second["root_hash"]))
    proof = await views.consistency(uow(any_engine), DPO, first["size"], second["size"])
    assert merkle.verify_consistency(first["size"], second["size"], B64(first["root_hash"]), B64(second["root_hash"]),
                                     [B64(h) for h in proof["proof"]])

    with pytest.raises(NotFound, match="keinen signierten Prüfpunkt"):
        await views.inclusion(uow(any_engine), DPO, directory, 0, second["size"] - 1)
    with pytest.raises(InvalidInput, match=f"nicht im Prüfpunkt der Größe {first['size']}"):
        await views.inclusion(uow(any_engine), DPO, directory, first["size"], first["size"])
    with pytest.raises(InvalidInput, match="'old' muss kleiner oder gleich 'new' sein"):
        await views.consistency(uow(any_engine), DPO, second["size"], first["size"])
    with pytest.raises(NotFound, match="Prüfpunkt nicht gefunden"):
        await views.checkpoint(uow(any_engine), DPO, second["size"] + 1000)


async def test_the_export_streams_every_record_with_its_stored_leaf_hash(any_engine, directory):
    size = await _append(any_engine, 3)
    lines = [json.loads(line) async for line in views.export(uow(any_engine), DPO, directory, size - 3)]
    assert [line["index"] for line in lines] == [size - 3, size - 2, size - 1]
    for line in lines:
        assert bytes.fromhex(line["leaf_hash"]) == merkle.leaf_hash(
            json.dumps(line["record"], sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
    assert len([line async for line in views.export(uow(any_engine), DPO, directory, size - 3, size - 2)]) == 1


async def test_a_checkpoint_is_signed_once_per_size(any_engine):
    await _append(any_engine, 2)
    checkpointer = Checkpointer(any_engine, SIGNER, ORIGIN, 1)
    assert (await checkpointer.checkpoint()) is not None
    assert (await checkpointer.checkpoint()) is None  # the log did not grow
    latest = await views.checkpoint(uow(any_engine), DPO)
    async with uow(any_engine) as unit:  # another process stored this size first: skipped, the unit goes on
        assert not await unit.audit_log.add_checkpoint(latest["size"], B64(latest["root_hash"]), utcnow(), "x")
        assert (await unit.audit_log.latest_checkpoint()).note == latest["note"]


async def test_the_dpo_cosigns_a_checkpoint_once(any_engine):
    latest = await _signed(any_engine)
    cosigned = add_signature(latest["note"], NoteSigner.from_skey(TEST_DPO_SKEY))
    command = AddCosignature(size=latest["size"], note=cosigned)
    assert command.note == cosigned  # byte-exact: no whitespace stripped

    stored = await handlers.add_cosignature(command, DPO, uow(any_engine), SIGNER, [DPO_KEY])
    assert stored == {"size": latest["size"], "cosigned_by": [DPO_KEY.name]}
    note = (await views.checkpoint(uow(any_engine), DPO, latest["size"]))["note"]
    open_checkpoint(note, [SIGNER.verifier(), DPO_KEY], require_all=True)
    with pytest.raises(Conflict, match="Keine neue Mitsignatur"):
        await handlers.add_cosignature(command, DPO, uow(any_engine), SIGNER, [DPO_KEY])


async def test_a_cosignature_must_be_the_hubs_checkpoint_signed_by_a_configured_key(any_engine):
    latest = await _signed(any_engine)
    cosigned = add_signature(latest["note"], NoteSigner.from_skey(TEST_DPO_SKEY))
    with pytest.raises(NotFound, match="Prüfpunkt nicht gefunden"):
        await handlers.add_cosignature(AddCosignature(size=latest["size"] + 1000, note=cosigned), DPO,
                                       uow(any_engine), SIGNER, [DPO_KEY])
    with pytest.raises(InvalidInput, match="keine Mitsignatur-Schlüssel konfiguriert"):
        await handlers.add_cosignature(AddCosignature(size=latest["size"], note=cosigned), DPO, uow(any_engine),
                                       SIGNER, [])
    other = await _signed(any_engine)
    with pytest.raises(InvalidInput, match="nicht der Prüfpunkt dieser Größe"):
        await handlers.add_cosignature(AddCosignature(size=other["size"], note=cosigned), DPO, uow(any_engine),
                                       SIGNER, [DPO_KEY])
    bad_signature = base64.b64encode(DPO_KEY.key_hash + bytes(64)).decode()
    forged = f"{latest['note']}\u2014 {DPO_KEY.name} {bad_signature}\n"
    with pytest.raises(InvalidInput, match="Signatur ungültig"):
        await handlers.add_cosignature(AddCosignature(size=latest["size"], note=forged), DPO, uow(any_engine),
                                       SIGNER, [DPO_KEY])


async def test_the_access_report_signs_a_checkpoint_first_and_proves_every_entry(any_engine, directory):
    size = await _append(any_engine, 8)
    person = f"p-{2:032x}"
    report = await handlers.report_access(ReportAccess(person=person), DPO, uow(any_engine), SIGNER, SETTINGS,
                                          directory)
    cp = open_checkpoint(report["checkpoint"]["note"], [SIGNER.verifier()])
    assert cp.size == size  # signed now: every entry so far is proven
    entries = report["transfers"] + report["consents"]
    assert entries and report["log_pseudonym"] == AUDIT.pseudonym(person)
    for entry in entries:
        assert entry["person"] == AUDIT.pseudonym(person)
        assert merkle.verify_inclusion(B64(entry["leaf_hash"]), entry["index"], cp.size,
                                       [B64(h) for h in entry["inclusion_proof"]], cp.root)
    async with any_engine.connect() as conn:  # published on kim.audit.v1 with the commit
        keys = (await conn.execute(select(outbox.c.headers).where(outbox.c.topic == topics.AUDIT))).scalars().all()
    assert f"{ORIGIN}/{size}" in {h["ce_id"] for h in keys}

    html = await handlers.report_access(ReportAccess(person=person, format="html"), DPO, uow(any_engine), SIGNER,
                                        SETTINGS, directory)
    assert "Auskunft nach Art. 15 DSGVO" in html and "Ausländerbehörde Stadt Troisdorf" in html
