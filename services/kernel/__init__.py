"""What every context may import: who acts (identity), what went wrong (errors), the settings.
No database, no broker, no framework beyond pydantic-settings."""
