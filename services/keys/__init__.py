"""The hub's key service: per-person data keys (envelope encryption under a master key) and their
release to a recipient office only against a consent that covers the item (the cryptographic
consent gate). The cryptography itself is in ``services/crypto``."""
