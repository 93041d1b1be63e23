"""The database, the broker and the outbox between them: adapters every context uses, and no
business rule. Imports nothing of the contexts (``services/migrations`` assembles their tables)."""
