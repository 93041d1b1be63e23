"""No committed version of a contract schema may be broken by the current models.

Breaking a published contract needs a new contract (e.g. ``referral.v2``) instead.
"""
import copy
import json
import os
import shutil
import subprocess
from enum import StrEnum
from pathlib import Path
from typing import Literal

import pytest
from pydantic import create_model

from contracts.base import Contract, categorised
from contracts.categories import DataCategory as C
from contracts.compat import breaking_changes
from contracts.export import SCHEMA_MODE, export_schemas
from contracts.registry import CONTRACTS, SCHEMA_DIR

ROOT = Path(__file__).resolve().parents[2]


# --- git history ------------------------------------------------------------------------

def _git(root: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}  # never another repo
    env["LC_ALL"] = "C"
    try:
        done = subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.fail(f"git {' '.join(args)} failed in {root}: {getattr(exc, 'stderr', '') or exc}")
    return done.stdout


def earlier_versions(path: str, root: Path = ROOT) -> list[tuple[str, str]]:
    """(commit, text) of every committed version of ``path`` (relative to ``root``).

    No git installed or no repository (e.g. an unpacked sdist): no earlier versions.
    Git failing, or a shallow clone that hides history: the test fails.
    """
    if shutil.which("git") is None or not any((d / ".git").exists() for d in (root, *root.parents)):
        return []
    if _git(root, "rev-parse", "--is-shallow-repository").strip() == "true":
        pytest.fail("shallow git clone: earlier schema versions are not visible; fetch full history")
    # Every commit that added or changed the file (not deletions, whose tree lacks it).
    commits = _git(root, "log", "--format=%H", "--diff-filter=ACMRT", "--", path).split()
    return [(sha, _git(root, "show", f"{sha}:./{path}")) for sha in commits]


@pytest.mark.parametrize("info", CONTRACTS, ids=lambda info: info.schema_name)
def test_no_breaking_change_against_committed_versions(info):
    current = json.loads(export_schemas()[info.schema_name])
    breaks = [
        f"{sha[:12]}: {problem}"
        for sha, text in earlier_versions(SCHEMA_DIR + info.schema_name)
        for problem in breaking_changes(json.loads(text), current)
    ]
    assert not breaks, f"{info.schema_name} breaks committed versions (publish a new version instead):\n" + "\n".join(
        breaks
    )


def test_history_walk_sees_every_committed_version(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    git = lambda *args: _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", *args)
    git("init", "-q")
    path = "contracts/schemas/msg.v1.json"
    (tmp_path / "contracts/schemas").mkdir(parents=True)
    for version in (_schema(), _schema(extra=(str | None, categorised(C.FALLDATEN, None)))):
        (tmp_path / path).write_text(json.dumps(version))
        git("add", path)
        git("commit", "-q", "--no-verify", "-m", "v")
    versions = earlier_versions(path, root=tmp_path)
    assert len(versions) == 2
    broken = _schema(notes=None)
    assert all("Msg.notes: property removed" in breaking_changes(json.loads(text), broken) for _, text in versions)


def test_git_failure_fails_instead_of_skipping(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    (tmp_path / ".git").write_text("gitdir: /nonexistent\n")
    with pytest.raises(pytest.fail.Exception, match="git .* failed"):
        earlier_versions("contracts/schemas/x.json", root=tmp_path)


# --- breaking_changes on synthetic models ----------------------------------------------

Colour = StrEnum("Colour", {"RED": "red", "GREEN": "green"})
ColourRedOnly = StrEnum("Colour", {"RED": "red"})
ColourMore = StrEnum("Colour", {"RED": "red", "GREEN": "green", "BLUE": "blue"})
Inner = create_model("Inner", __base__=Contract, a=(str, ...), b=(int | None, None))
InnerWithoutB = create_model("Inner", __base__=Contract, a=(str, ...))
InnerPlusC = create_model("Inner", __base__=Contract, a=(str, ...), b=(int | None, None), c=(str | None, None))
Other = create_model("Other", __base__=Contract, a=(str, ...), b=(int | None, None))

BASE = {
    "name": (str, categorised(C.STAMMDATEN)),
    "colour": (Colour, ...),
    "kind": (Literal["a", "b"], "a"),
    "inner": (Inner | None, None),
    "notes": (str | None, categorised(C.FALLDATEN, None)),
}


def _schema(**changes) -> dict:
    """Schema of model "Msg": BASE with fields replaced, added, or removed (``=None``)."""
    fields = {name: spec for name, spec in {**BASE, **changes}.items() if spec is not None}
    return create_model("Msg", __base__=Contract, **fields).model_json_schema(mode=SCHEMA_MODE)


BREAKING = {
    "removed field": ({"notes": None}, "Msg.notes: property removed"),
    "retyped field": ({"colour": (int, ...)}, "Msg.colour: type changed from Colour to integer"),
    "nullable field made non-null": (
        {"notes": (str, categorised(C.FALLDATEN, ""))},
        "Msg.notes: type changed from string | null to string",
    ),
    "new required field": ({"extra": (str, ...)}, "Msg.extra: property newly required"),
    "optional field made required": (
        {"notes": (str | None, categorised(C.FALLDATEN))},
        "Msg.notes: property newly required",
    ),
    "removed enum value": ({"colour": (ColourRedOnly, ...)}, "Colour: enum value(s) removed: 'green'"),
    "removed literal value": ({"kind": (Literal["a"], "a")}, "Msg.kind: enum value(s) removed: 'b'"),
    "changed category": (
        {"notes": (str | None, categorised(C.BESONDERE_KATEGORIEN, None))},
        "Msg.notes: data category changed from falldaten to besondere_kategorien",
    ),
    "dropped category": ({"name": (str, ...)}, "Msg.name: data category changed from stammdaten to None"),
    "nested field removed": ({"inner": (InnerWithoutB | None, None)}, "Inner.b: property removed"),
    "referenced model swapped": (
        {"inner": (Other | None, None)},
        "Msg.inner: type changed from Inner | null to Other | null",
    ),
}

COMPATIBLE = {
    "unchanged": {},
    "added optional field": {"extra": (str | None, categorised(C.FALLDATEN, None))},
    "added enum value": {"colour": (ColourMore, ...)},
    "added literal value": {"kind": (Literal["a", "b", "c"], "a")},
    "field made nullable": {"name": (str | None, categorised(C.STAMMDATEN))},
    "nested optional field added": {"inner": (InnerPlusC | None, None)},
}


@pytest.mark.parametrize("changes, expected", BREAKING.values(), ids=BREAKING.keys())
def test_breaking_change_is_detected(changes, expected):
    assert expected in breaking_changes(_schema(), _schema(**changes))


@pytest.mark.parametrize("changes", COMPATIBLE.values(), ids=COMPATIBLE.keys())
def test_compatible_change_is_not_breaking(changes):
    assert breaking_changes(_schema(), _schema(**changes)) == []


def test_recursive_models_terminate():
    Node = create_model("Node", __base__=Contract, children=(list["Node"], []), label=(str | None, None))
    Node.model_rebuild(_types_namespace={"Node": Node})
    schema = Node.model_json_schema()
    assert breaking_changes(schema, schema) == []


@pytest.mark.parametrize("info", CONTRACTS, ids=lambda info: info.schema_name)
def test_real_schema_is_compatible_with_itself(info):
    schema = json.loads(export_schemas()[info.schema_name])
    assert breaking_changes(schema, copy.deepcopy(schema)) == []


def test_breaks_in_the_real_referral_schema_are_detected():
    old = json.loads(export_schemas()["referral.v1.json"])
    new = copy.deepcopy(old)
    new["properties"]["health_notes"]["x-data-category"] = "falldaten"
    new["$defs"]["Urgency"]["enum"].remove("hoch")
    del new["$defs"]["PersonDetails"]["properties"]["email"]
    new["required"].append("case_notes")
    assert sorted(breaking_changes(old, new)) == [
        "PersonDetails.email: property removed",
        "ReferralV1.case_notes: property newly required",
        "ReferralV1.health_notes: data category changed from besondere_kategorien to falldaten",
        "Urgency: enum value(s) removed: 'hoch'",
    ]
