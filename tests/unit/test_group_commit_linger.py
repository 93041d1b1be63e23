"""The group commit's linger: how requests arriving close together come to share a transaction.

Pure scheduling logic: the handler of a group is a recorder.
"""
from __future__ import annotations

import asyncio

import pytest

from services.infrastructure.group_commit import GroupCommit


class _Recorded(GroupCommit):
    def __init__(self, **kwargs):
        super().__init__(self._handle, **kwargs)
        self.groups: list[list[str]] = []

    async def _handle(self, items):
        self.groups.append([command for command, _ in items])
        return [f"outcome of {command}" for command, _ in items]


async def _submit_later(group: GroupCommit, name: str, delay: float) -> str:
    await asyncio.sleep(delay)
    return await group.submit(name, None)


@pytest.mark.parametrize("linger, later, groups", [
    (0.2, 0.02, [["a", "b"]]),  # b arrives while a's writer lingers: one transaction
    (0.0, 0.05, [["a"], ["b"]]),  # no linger: a lone request is committed at once
], ids=["linger", "no linger"])
async def test_requests_share_a_group_when_one_arrives_within_the_linger(linger, later, groups):
    group = _Recorded(linger=linger)
    try:
        results = await asyncio.gather(_submit_later(group, "a", 0), _submit_later(group, "b", later))
    finally:
        await group.stop()
    assert group.groups == groups
    assert results == ["outcome of a", "outcome of b"]


async def test_a_full_group_does_not_linger():
    group = _Recorded(linger=30.0, max_group=2)
    try:
        results = await asyncio.wait_for(
            asyncio.gather(*(_submit_later(group, name, 0) for name in "ab")), timeout=10)
    finally:
        await group.stop()
    assert group.groups == [["a", "b"]]
    assert results == ["outcome of a", "outcome of b"]
