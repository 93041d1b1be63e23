"""What a clerk asks of the office inbox (validated at the HTTP edge)."""
from contracts.base import Contract


class ConfirmReceipt(Contract):
    transfer_id: str
