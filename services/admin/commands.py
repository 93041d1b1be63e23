"""What an administrator asks of the hub (validated at the HTTP edge)."""
from contracts.base import Contract


class ReplayDeadLetter(Contract):
    """Publish a dead-lettered message again, to its original topic."""

    dead_letter_id: int
