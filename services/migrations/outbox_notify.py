"""The outbox's NOTIFY trigger as migrations 0005 and 0006 created it (shared so the two stay in step),
and as 0007 drops it: it woke relays in other processes (a LISTEN connection each), which an A/B run
on Apache Kafka showed to gain nothing once the committing process publishes its own rows."""
from alembic import op

CHANNEL = "kimhub_outbox"


def create(only_rows_for_the_relay: bool) -> None:
    """(Re)create ``outbox_notify``: once per insert statement, or (0006) only when the statement
    inserted rows without a lease, i.e. rows the relay must publish. PostgreSQL folds equal
    notifications of one transaction into one and delivers it at commit."""
    op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
    notify = f"PERFORM pg_notify('{CHANNEL}', '');"
    if only_rows_for_the_relay:
        notify = f"IF EXISTS (SELECT 1 FROM new_rows WHERE lease_until IS NULL) THEN {notify} END IF;"
    op.execute(f"""
        CREATE OR REPLACE FUNCTION kimhub_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {notify}
            RETURN NULL;
        END $$""")
    transition = " REFERENCING NEW TABLE AS new_rows" if only_rows_for_the_relay else ""
    op.execute(f"CREATE TRIGGER outbox_notify AFTER INSERT ON outbox{transition}"
               " FOR EACH STATEMENT EXECUTE FUNCTION kimhub_outbox_notify()")


def drop() -> None:
    op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
    op.execute("DROP FUNCTION IF EXISTS kimhub_outbox_notify()")
