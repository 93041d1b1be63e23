"""Audit contracts: signed checkpoints of the transfer log, published on ``kim.audit.v1``."""
from pydantic import AwareDatetime, Field

from contracts.base import Contract


class CheckpointV1(Contract):
    """A signed checkpoint (C2SP tlog-checkpoint in a signed note) of the transfer log."""

    origin: str
    size: int = Field(ge=0)
    root_hash: str = Field(description="base64 SHA-256 Merkle tree root (RFC 9162)")
    issued_at: AwareDatetime
    note: str = Field(description="the complete signed note, verifiable offline")
