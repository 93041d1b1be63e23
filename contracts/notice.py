"""Statutory notices: transfers that rest on law, not on consent (see services/gate/statutory.yaml)."""
from datetime import date

from contracts.base import Contract, categorised
from contracts.categories import DataCategory as C
from contracts.referral import PersonDetails


class EinbuergerungsmitteilungV1(Contract):
    """The naturalisation office informs the immigration office of a naturalisation."""

    person: PersonDetails = categorised(C.STAMMDATEN, description="Identifizierung der Person")
    naturalised_on: date = categorised(C.FALLDATEN, description="Tag der Aushändigung der Einbürgerungsurkunde")
    note: str | None = categorised(C.FALLDATEN, None, max_length=2000)
