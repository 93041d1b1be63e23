"""Audit: the append-only transfer log and the DPO's queries over it."""
