"""Delivery: the office inboxes clerks read, and receipts back to the sender."""
