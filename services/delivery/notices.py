"""Revocation notices on the office's side (issue 17): stored when they arrive (only what the hub
signed), and what they mean for reading: an item a notice names is not opened while the notice is
open; after ``deleted`` what it named is gone; after ``kept`` the office reads it on the legal basis
it named, no longer under the consent.
"""
from __future__ import annotations

from datetime import datetime

from contracts.registry import by_model
from contracts.revocation import RevocationNoticeV1
from contracts.transfer import PayloadFieldsV1, SealedPayloadV1
from services.crypto.errors import SignatureInvalid
from services.gate.notices import notice_meta
from services.gate.sealing import DOCUMENTS_CATEGORY
from services.infrastructure.errors import PermanentError
from services.kernel.errors import Forbidden, Gone
from services.keys.holder import Keys

NOTICE_TYPE = by_model(RevocationNoticeV1).ce_type
OPEN, DELETED, KEPT = "open", "deleted", "kept"


def notice_rows(notices: list[RevocationNoticeV1], keys: Keys, now: datetime) -> list[dict]:
    """The rows of notices the hub signed; one that does not verify fails the batch (dead letter)."""
    rows = []
    for n in notices:
        try:
            keys.verifier.verify(n.signature, notice_meta(n))
        except SignatureInvalid:
            raise PermanentError("revocation notice signature invalid: it was changed or not signed by the hub")
        rows += [{"notice_id": n.notice_id, "transfer_id": t.transfer_id, "office": n.office,
                  "sender_office": n.sender_office, "person": n.person, "consent_id": n.consent_id,
                  "consent_version": t.consent_version, "change": n.change.value, "purpose": t.purpose.value,
                  "categories": [c.value for c in t.categories], "issued_at": n.issued_at, "stored_at": now,
                  "state": OPEN} for t in n.transfers]
    return rows


async def reading_allowed_by_notices(uow, office: str, item) -> bool:
    """Raises while a notice about ``item`` is open (403) or when a deletion left nothing of it (410);
    True when the office keeps it on a legal basis it named (it opens without the consent)."""
    rows = await uow.office_notices.of_item(office, item.transfer_id)
    for r in rows:
        if r.state == OPEN:
            raise Forbidden(f"Zu dieser Nachricht liegt der Widerrufshinweis {r.notice_id} vor: die Einwilligung "
                            "wurde widerrufen oder eingeschränkt. Lesen erst wieder, wenn Ihre Stelle eine "
                            "Rechtsgrundlage zum Aufbewahren angibt.", field="transfer_id",
                            code_detail="revocation_notice_open", notice_id=r.notice_id)
    deleted = [r for r in rows if r.state == DELETED]
    if deleted and not SealedPayloadV1.model_validate(item.sealed).parts:
        raise Gone(f"Der Inhalt wurde auf den Widerrufshinweis {deleted[-1].notice_id} hin gelöscht.",
                   field="transfer_id", code_detail="deleted_on_revocation", notice_id=deleted[-1].notice_id)
    return any(r.state == KEPT for r in rows)


def without(sealed: SealedPayloadV1, categories: set[str]) -> SealedPayloadV1:
    """The sealed payload without the parts, fields (and documents) of ``categories``: what a confirmed
    deletion leaves. Nothing is opened."""
    fields = PayloadFieldsV1(required={c: f for c, f in sealed.fields.required.items() if c not in categories},
                             optional={c: f for c, f in sealed.fields.optional.items() if c not in categories})
    return SealedPayloadV1(fields=fields, parts={c: t for c, t in sealed.parts.items() if c not in categories},
                           documents={} if DOCUMENTS_CATEGORY in categories else sealed.documents)


async def delete_named(uow, office: str, rows: list) -> None:
    """What a notice names, deleted from the office's tables: the sealed parts (and document copies) of
    the categories no longer covered; after a revocation that is all of an item."""
    replaced, with_documents = [], []
    for r in rows:
        item = await uow.inbox.get(r.transfer_id, for_update=True)
        if item is None or item.office != office:
            continue  # never stored here (e.g. rejected)
        sealed = without(SealedPayloadV1.model_validate(item.sealed), set(r.categories))
        replaced.append({"transfer_id": r.transfer_id, "sealed": sealed.model_dump(mode="json")})
        if DOCUMENTS_CATEGORY in r.categories:
            with_documents.append(r.transfer_id)
    uow.inbox.replace_sealed(replaced)
    await uow.sealed_documents.delete(with_documents)


def notice_view(rows: list) -> dict:
    """One notice from its rows (one per affected item)."""
    first = rows[0]
    return {"notice_id": first.notice_id, "consent_id": first.consent_id, "change": first.change,
            "sender_office": first.sender_office, "office": first.office, "person": first.person,
            "issued_at": first.issued_at, "state": first.state, "legal_basis": first.legal_basis,
            "confirmed_by": first.confirmed_by, "confirmed_at": first.confirmed_at,
            "transfers": [{"transfer_id": r.transfer_id, "consent_version": r.consent_version,
                           "purpose": r.purpose, "categories": r.categories} for r in rows]}


def grouped(rows: list) -> list[dict]:
    """Rows of several notices as notices, in the rows' order."""
    by_notice: dict[str, list] = {}
    for r in rows:
        by_notice.setdefault(r.notice_id, []).append(r)
    return [notice_view(group) for group in by_notice.values()]
