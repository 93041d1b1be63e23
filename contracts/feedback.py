"""The way back: messages from the receiving office to the case-management office.

Each is a payload contract of a transfer (consent-gated like any other: the person's consent must
allow the way back, i.e. an inbound provision for the sending office). ``in_reply_to`` names the
transfer being answered.
"""
from datetime import date
from enum import StrEnum

from pydantic import AwareDatetime, Field

from contracts.agency import OFFICE_ID_PATTERN
from contracts.base import Contract, categorised
from contracts.categories import DataCategory as C

REPLY = dict(min_length=3, max_length=40, description="Übermittlung, auf die geantwortet wird")


class RequestedItem(Contract):
    item_id: str | None = Field(None, max_length=80, description="Checklisten-Punkt, falls vorhanden")
    label: str = Field(min_length=1, max_length=300)
    note: str | None = Field(None, max_length=1000)


class NachforderungV1(Contract):
    """Request for missing documents: names the items and a deadline."""

    in_reply_to: str = categorised(C.FALLDATEN, **REPLY)
    items: list[RequestedItem] = categorised(C.FALLDATEN, min_length=1, max_length=50)
    deadline: date = categorised(C.FALLDATEN, description="Frist")
    note: str | None = categorised(C.FALLDATEN, None, max_length=2000)


class TerminV1(Contract):
    """An appointment for the person."""

    in_reply_to: str = categorised(C.FALLDATEN, **REPLY)
    starts_at: AwareDatetime = categorised(C.FALLDATEN)
    location: str = categorised(C.FALLDATEN, min_length=1, max_length=300)
    note: str | None = categorised(C.FALLDATEN, None, max_length=2000)


class SachstandV1(Contract):
    """Status of the procedure (Sachstand)."""

    in_reply_to: str = categorised(C.FALLDATEN, **REPLY)
    status_text: str = categorised(C.FALLDATEN, min_length=1, max_length=2000)


class Outcome(StrEnum):
    EINBUERGERUNGSZUSICHERUNG = "einbuergerungszusicherung"
    EINGEBUERGERT = "eingebuergert"
    AUFENTHALTSERLAUBNIS_ERTEILT = "aufenthaltserlaubnis_erteilt"
    ABGELEHNT = "abgelehnt"
    ZURUECKGENOMMEN = "zurueckgenommen"
    SONSTIGES = "sonstiges"


class ErgebnisV1(Contract):
    """Outcome of the procedure."""

    in_reply_to: str = categorised(C.FALLDATEN, **REPLY)
    outcome: Outcome = categorised(C.FALLDATEN)
    decided_on: date | None = categorised(C.FALLDATEN, None)
    note: str | None = categorised(C.FALLDATEN, None, max_length=2000)


class NichtZustaendigV1(Contract):
    """Not competent; forwarded to another office (the XAusländer ``nichtZustaendig`` pattern)."""

    in_reply_to: str = categorised(C.FALLDATEN, **REPLY)
    forwarded_to: str | None = categorised(C.FALLDATEN, None, pattern=OFFICE_ID_PATTERN)
    note: str | None = categorised(C.FALLDATEN, None, max_length=2000)
