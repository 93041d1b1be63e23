"""What an office's administrator asks of the notifications (validated at the HTTP edge)."""
from typing import Annotated

from pydantic import Field, StringConstraints

from contracts.base import Contract

# A plain check (a local part, an @, a domain with a dot); the SMTP server is the final judge.
Address = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254,
                                           pattern=r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[A-Za-z]{2,}$")]


class NotificationAddresses(Contract):
    """Which addresses of an office receive which notification (an empty list: none)."""

    new_items: list[Address] = Field(default_factory=list, max_length=20,
                                     description="Adressen für neue Nachrichten im Posteingang")
    overdue_replies: list[Address] = Field(default_factory=list, max_length=20,
                                           description="Adressen für abgelaufene Antwortfristen")


class SetNotificationAddresses(NotificationAddresses):
    """Set an office's addresses (the request body, and the office from the path)."""

    office: str = Field(max_length=64)
