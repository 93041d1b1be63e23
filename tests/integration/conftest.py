"""In-process integration fixtures: a migrated PostgreSQL database and the broker."""
import pytest

from services.directory.model import load_directory
from services.migrations import migrate
from services.infrastructure.db import create_engine
from services.kernel.settings import Settings


@pytest.fixture(scope="session")
async def engine(pg_url):
    engine = create_engine(pg_url)
    await migrate.upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def directory():
    return load_directory(Settings().directory_file)


@pytest.fixture(scope="session")
def settings(pg_url, broker_bootstrap, tmp_path_factory):
    return Settings(database_url=pg_url, kafka_bootstrap=broker_bootstrap,
                    kafka_session_timeout_ms=6000,
                    data_dir=tmp_path_factory.mktemp("hub"), topic_partitions=3)
