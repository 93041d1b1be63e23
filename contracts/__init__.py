"""kimhub message contracts: the versioned pydantic models every service speaks.

Producers build these models (unknown fields are forbidden); consumers read them with
``read_message`` (unknown fields are tolerated, so an older consumer survives a newer producer).
"""
