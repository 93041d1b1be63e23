"""What the crypto modules raise. Messages are English reason codes for logs and dead letters: they
never carry plaintext, key material or personal data (a person id appears nowhere here)."""


class CryptoError(Exception):
    """Base of every error of ``services.crypto``."""


class SealBroken(CryptoError):
    """A sealed item does not open: malformed, tampered, an unexpected algorithm or an unknown key.

    ``reason`` is a short code (``malformed``, ``algorithm``, ``unknown_key``, ``no_private_key``,
    ``decryption_failed``) that a dead letter may carry.
    """

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class NoUsableKey(CryptoError):
    """An office ring holds no key that may seal at the given moment."""


class NoKeys(CryptoError):
    """A key store holds no keys for an office."""


class KeyFileExposed(CryptoError):
    """A private key file may be read by others than its owner (mode not 0600)."""


class KeyDestroyed(CryptoError):
    """A person key is gone (destroyed, or never existed): what it sealed no longer opens."""


class KeyReleaseRefused(CryptoError):
    """The key service does not release a person key for this opening (e.g. no consent covers it).

    Raised by a release check handed to ``PersonKeys.for_opening``; ``reason`` is a short code.
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class MasterKeyMissing(CryptoError):
    """A person key was wrapped by a master key this process does not hold."""


class SignatureInvalid(CryptoError):
    """A delivery signature does not verify against the metadata and the hub's public key."""
