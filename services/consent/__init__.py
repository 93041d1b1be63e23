"""Consent: record, amend, revoke and query consents; the coverage rule."""
