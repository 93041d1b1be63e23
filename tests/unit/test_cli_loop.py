"""The services run on uvloop where it is installed (a dependency on Linux)."""
from __future__ import annotations

import asyncio

from services.cli import _run


def test_services_run_on_uvloop():
    seen = {}

    async def probe():
        seen["loop"] = type(asyncio.get_running_loop()).__module__

    _run(probe())
    assert seen["loop"].startswith("uvloop")
