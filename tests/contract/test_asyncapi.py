"""The committed AsyncAPI document (contracts/asyncapi.json) is what the contracts and topics
generate, is a valid AsyncAPI 3.0 document, and every reference in it resolves."""
import copy
import gzip
import json
from pathlib import Path

import jsonschema
import pytest

from contracts.registry import CONTRACTS
from contracts.payloads import PAYLOADS
from services import asyncapi
from services.directory.model import load_directory
from services.infrastructure import topics
from services.kafka_acls import component_access
from services.kernel.settings import Settings

OFFICIAL_SCHEMA = Path(__file__).parent / "data" / "asyncapi-3.0.0.schema.json.gz"


@pytest.fixture(scope="module")
def validator():
    return jsonschema.Draft7Validator(json.loads(gzip.decompress(OFFICIAL_SCHEMA.read_bytes())))


def test_the_committed_document_is_what_the_contracts_generate():
    assert asyncapi.DOCUMENT.read_text(encoding="utf-8") == asyncapi.render(), (
        "contracts/asyncapi.json is out of date: run `python -m services.asyncapi` (or `make schemas`) and commit it")


def test_check_mode_reports_drift(tmp_path, capsys):
    out = tmp_path / "asyncapi.json"
    assert asyncapi.main(["--check", "--out", str(out)]) == 1  # missing
    assert asyncapi.main(["--out", str(out)]) == 0
    assert asyncapi.main(["--check", "--out", str(out)]) == 0
    out.write_text(out.read_text().replace("kim.feedback.v1", "kim.feedback.v2"))
    assert asyncapi.main(["--check", "--out", str(out)]) == 1


def test_valid_against_the_official_asyncapi_3_schema(validator):
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
              for e in validator.iter_errors(asyncapi.document())]
    assert not errors, errors


def test_the_official_schema_catches_a_broken_document(validator):
    broken = copy.deepcopy(asyncapi.document())
    broken["operations"]["sendConsent"]["action"] = "publish"  # AsyncAPI 2 wording
    assert not validator.is_valid(broken)


def test_every_reference_resolves():
    doc = asyncapi.document()
    refs = list(_refs(doc))
    assert refs
    for ref in refs:
        if ref.startswith("#/"):
            node = doc
            for part in ref[2:].split("/"):
                assert isinstance(node, dict) and part in node, f"{ref} does not resolve"
                node = node[part]
        else:
            assert (asyncapi.DOCUMENT.parent / ref).is_file(), f"{ref}: no such schema file"


def _refs(node):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_message_contract_is_on_a_channel_and_payloads_are_the_committed_schemas():
    doc = asyncapi.document()
    payloads = {info.model for info in PAYLOADS}  # carried inside transfer messages, not on a topic of their own
    on_topics = {info for info in CONTRACTS if info.model not in payloads}
    messages = doc["components"]["messages"]
    assert {m["name"] for m in messages.values()} == {info.message_type for info in on_topics}
    for info in on_topics:
        assert messages[info.message_type]["payload"]["schema"] == {"$ref": f"schemas/{info.schema_name}"}


def test_channels_are_the_topics_the_hub_components_use():
    """The document and the broker ACLs (kafka_acls.py, derived from the code) name the same topics."""
    offices = sorted(load_directory(Settings().directory_file).offices)
    access = component_access(offices)
    used = {t for a in access.values() for t in (*a.reads, *a.writes)}
    addresses = {ch["address"] for ch in asyncapi.document()["channels"].values()}
    expanded = {a for a in addresses if "{office}" not in a} | {
        a.replace(asyncapi.OFFICE_INBOX, topics.office_inbox(o)) for a in addresses if "{office}" in a for o in offices}
    assert used <= expanded
    consumed = {t for a in access.values() for t in a.reads}
    received = {asyncapi.document()["channels"][op["channel"]["$ref"].split("/")[-1]]["address"]
                for op in asyncapi.document()["operations"].values() if op["action"] == "receive"}
    assert {t for t in consumed if not t.startswith("agency.")} | {asyncapi.OFFICE_INBOX} == received
