"""What /docs and /redoc show of the request bodies and parameters is German: the schemas' and fields'
descriptions (gateway/openapi_texts.py lays German texts over the contracts' English docstrings)."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from gateway.app import create_app
from services.kernel.settings import Settings

ENGLISH = re.compile(r"\b(the|of|and|is|to|for|with|by|one|from|it|its|that|which|must|should|person's)\b")


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("hub"))
    app = create_app(SimpleNamespace(settings=settings, directory=SimpleNamespace(offices={"rsk-kim": None})))
    return app.openapi()


def _refs(node, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                found.add(value.rsplit("/", 1)[-1])
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def _request_schemas(spec: dict) -> dict[str, dict]:
    """Every schema a request body uses, directly or inside another."""
    schemas, found = spec["components"]["schemas"], set()
    for operations in spec["paths"].values():
        for operation in operations.values():
            _refs(operation.get("requestBody", {}), found)
    done: set[str] = set()
    while todo := found - done:
        for name in todo:
            done.add(name)
            _refs(schemas.get(name, {}), found)
    return {n: schemas[n] for n in done if n in schemas}


def _descriptions(node, where: str):
    if isinstance(node, dict):
        if isinstance(node.get("description"), str):
            yield where, node["description"]
        for key, value in node.items():
            if key != "description":
                yield from _descriptions(value, f"{where}.{key}")
    elif isinstance(node, list):
        for value in node:
            yield from _descriptions(value, where)


def test_request_bodies_are_described_in_german(spec):
    english = [(where, text) for name, schema in _request_schemas(spec).items()
               for where, text in _descriptions(schema, name) if ENGLISH.search(text)]
    assert english == [], english


def test_parameters_are_described_in_german(spec):
    english = [(path, p["name"], p.get("description")) for path, operations in spec["paths"].items()
               for operation in operations.values() for p in operation.get("parameters", [])
               if ENGLISH.search(p.get("description") or "")]
    assert english == [], english
