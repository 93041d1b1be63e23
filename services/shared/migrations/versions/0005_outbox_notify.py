"""Wake the outbox relay in any process when outbox rows are committed (PostgreSQL NOTIFY).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CHANNEL = "kimhub_outbox"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite is the embedded set-up: one process, woken in-process
    # Once per statement; PostgreSQL folds equal notifications of one transaction into one and
    # delivers it at commit, so a listener never wakes for rows it cannot see yet.
    op.execute(f"""
        CREATE FUNCTION kimhub_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', '');
            RETURN NULL;
        END $$""")
    op.execute("CREATE TRIGGER outbox_notify AFTER INSERT ON outbox"
               " FOR EACH STATEMENT EXECUTE FUNCTION kimhub_outbox_notify()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
    op.execute("DROP FUNCTION IF EXISTS kimhub_outbox_notify()")
