"""The one schema: every context's tables (``schema.py``), the alembic migrations (``versions/``) and
how they are applied (``migrate.py``). Here, above the contexts, so no context imports it."""
