"""Alembic environment. The hub passes its own connection (``kimhub migrate`` and start-up);
plain ``alembic upgrade head`` with ``-x url=...`` works too."""
import asyncio

from alembic import context

from services.infrastructure.db import create_engine
from services.migrations.schema import metadata

config = context.config


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _standalone(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_standalone(context.get_x_argument(as_dictionary=True)["url"]))
