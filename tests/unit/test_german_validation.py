"""The API's validation errors are German, with every field named in words (issue 19).

Every route of the OpenAPI gets request bodies and query/path parameters made wrong in each typical
way (wrong type, too long, too short, wrong pattern, unknown value, missing, unknown field, a naive
time, too many or too few list items, numbers out of range), derived from the route's own schema.
Each error in each 422 answer must be German: no sentence of pydantic's English, no error type
without a text of ours, no field named only by its path. The requests go through the real app
(authentication, validation, problem+json) in process; the routes themselves are never reached.
"""
from __future__ import annotations

import copy
import re
import time
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt

from gateway.app import create_app
from gateway.auth import dev_key
from gateway.field_labels import field_label
from gateway.openapi_texts import SUMMARIES
from gateway.validation_texts import PYDANTIC_TYPES, TEXTS, german_text
from services.kernel.identity import Role
from services.kernel.settings import Settings

UNKNOWN_FIELD = "zz_unbekannt"
# Words of pydantic's messages ("Input should be a valid string", "Field required", "Extra inputs are not
# permitted", "Value error, ..."); quoted names („outbound“) are taken out before looking.
ENGLISH = re.compile(r"\b(should|required|permitted|Input|Value error|valid|characters?|least|most|must|the|is|"
                     r"not|String|List|Field|Extra|Assertion|timezone|date|datetime|integer|number)\b")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("hub"))
    hub = SimpleNamespace(settings=settings, directory=SimpleNamespace(offices={"rsk-kim": None}))
    app = create_app(hub)
    key = dev_key(settings)
    now = int(time.time())
    claims = {"iss": settings.auth_issuer, "aud": settings.auth_audience, "sub": "tester", "iat": now,
              "exp": now + 600, "office": "rsk-kim", "roles": [r.value for r in Role]}
    token = jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key, algorithms=["ES256"])
    with TestClient(app, raise_server_exceptions=False, headers={"Authorization": f"Bearer {token}"}) as c:
        c.spec = app.openapi()
        yield c


# --- invalid values, derived from a JSON Schema ---------------------------------------------------------------

def resolve(schema: dict, spec: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    for union in ("anyOf", "oneOf"):
        if union in schema:
            options = [s for s in schema[union] if s.get("type") != "null"]
            return resolve(options[0], spec) if options else {}
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return resolve(schema["allOf"][0], spec)
    return schema


def wrong_type(schema: dict) -> object:
    kind = schema.get("type")
    if "enum" in schema or "const" in schema:
        return "gibt-es-nicht"
    return {"string": 12345, "integer": "zwölf", "number": "viel", "boolean": "vielleicht", "array": "eins",
            "object": "alles"}.get(kind, [])


def broken_rule(schema: dict, low: bool = False) -> object:
    """A value of the right type that breaks one of the schema's rules: a lower bound if ``low``."""
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "string":
        if fmt in ("date-time", "date"):
            return "31.03.2025" if low else "2025-03-31T09:30:00" if fmt == "date-time" else "2025-02-30"
        if low:
            return "" if schema.get("minLength") else None
        if "pattern" in schema:
            return "!!"
        return "a" * (schema["maxLength"] + 1) if "maxLength" in schema else None
    if kind == "integer":
        bound = "minimum" if low else "maximum"
        return schema[bound] + (-1 if low else 1) if bound in schema else None
    return None


def invalid(schema: dict, spec: dict, mode: str, depth: int = 0) -> object:
    """A document for ``schema`` whose every field is invalid in the way ``mode`` says."""
    schema = resolve(schema, spec)
    kind = schema.get("type")
    if mode == "shape" and depth > 0:
        return wrong_type(schema)
    if kind == "object" and "properties" in schema and depth < 6:
        if mode == "missing" and depth > 0:
            return {}
        doc = {name: invalid(sub, spec, mode, depth + 1) for name, sub in schema["properties"].items()}
        return {**doc, UNKNOWN_FIELD: 1}
    if kind == "array" and depth < 6:
        if mode == "low" and schema.get("minItems"):
            return []
        item = invalid(schema.get("items", {}), spec, mode, depth + 1)
        return [item] * (schema["maxItems"] + 1) if mode == "rule" and "maxItems" in schema else [item]
    return wrong_type(schema) if mode in ("type", "shape") else broken_rule(schema, low=mode == "low")


def operations(spec: dict):
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            yield path, method, op


def request_args(op: dict, spec: dict, mode: str) -> dict:
    args: dict = {"params": {}}
    for param in op.get("parameters", []):
        schema = resolve(param["schema"], spec)
        value = wrong_type(schema) if mode in ("type", "shape") else broken_rule(schema, low=mode == "low")
        if param["in"] == "query" and value is not None and not isinstance(value, (list, dict)):
            args["params"][param["name"]] = str(value)
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        args["json"] = invalid(content["application/json"]["schema"], spec, mode)
    return args


def concrete(path: str, op: dict, spec: dict, mode: str) -> str:
    """The path with each parameter filled in: a broken value where the schema has a rule, else a plain one."""
    for param in op.get("parameters", []):
        if param["in"] == "path":
            value = broken_rule(resolve(param["schema"], spec), low=mode == "low") if mode in ("rule", "low") else None
            path = path.replace(f"{{{param['name']}}}", str(value if value not in (None, "") else "x1"))
    return path


def german_errors(client, mode: str) -> list[tuple[str, dict]]:
    found = []
    for path, method, op in operations(client.spec):
        response = client.request(method.upper(), concrete(path, op, client.spec, mode),
                                  **request_args(op, client.spec, mode))
        if response.status_code == 422:
            found += [(f"{method.upper()} {path}", e) for e in response.json()["errors"]]
    return found


# --- the tests --------------------------------------------------------------------------------------------------

MODES = ["type", "shape", "rule", "low", "missing"]


@pytest.mark.parametrize("mode", MODES)
def test_every_validation_error_of_every_route_is_german(client, mode):
    errors = german_errors(client, mode)
    assert len(errors) > 30, errors  # the generator reaches the routes' fields
    for where, error in errors:
        message = re.sub(r"„[^“]*“", "", error["message"])
        assert not ENGLISH.search(message), (where, error)
        assert error["code"] in TEXTS or error["code"] not in PYDANTIC_TYPES, (where, error)
        named_by_path = error["label"].startswith(("Feld „", "Parameter „", "Adressteil „"))
        assert not named_by_path or UNKNOWN_FIELD in error["label"], (where, error)


def test_the_error_types_met_are_many(client):
    """The generator provokes the error types a client meets most (so the test above can fail)."""
    codes = {e["code"] for mode in MODES for _, e in german_errors(client, mode)}
    assert {"missing", "extra_forbidden", "string_type", "string_too_long", "string_pattern_mismatch", "enum",
            "literal_error", "int_parsing", "less_than_equal", "greater_than_equal", "bool_parsing", "list_type",
            "too_short", "too_long", "model_attributes_type", "date_from_datetime_parsing", "timezone_aware",
            "datetime_from_date_parsing"} <= codes, codes


def test_texts_name_only_pydantic_error_types():
    assert set(TEXTS) <= PYDANTIC_TYPES


@pytest.mark.parametrize("error, text", [
    ({"type": "string_pattern_mismatch", "ctx": {"pattern": "^[0-9]{8}$"}}, "8 Ziffern"),
    ({"type": "enum", "ctx": {"expected": "'jugendhilfe' or 'fallmanagement'"}}, "„jugendhilfe“ = Kinder- und"),
    ({"type": "string_too_long", "ctx": {"max_length": 200}}, "höchstens 200 Zeichen"),
    ({"type": "too_short", "ctx": {"min_length": 1}}, "nicht leer"),
    ({"type": "consent_period", "msg": "Muss nach dem Beginn der Gültigkeit liegen."}, "Muss nach dem Beginn"),
    ({"type": "a_type_nobody_knows", "msg": ""}, "Der Wert ist ungültig."),
])
def test_german_text(error, text):
    assert text in german_text(error)


@pytest.mark.parametrize("loc, label", [
    (("body", "municipality"), "Gemeindeschlüssel (AGS)"),
    (("body", "payload", "person", "given_name"), "Vorname der Person"),
    (("body", "provisions", 1, "recipient", "office"), "Empfangende Stelle (Regelung 2)"),
    (("body", "payload", "lieblingsfarbe"), "Feld „lieblingsfarbe“ in „Inhalt der Nachricht“"),
    (("query", "limit"), "Höchstzahl der Einträge (Parameter „limit“)"),
    (("body", "facts", "entry_date"), "Einreisedatum"),
])
def test_field_label(loc, label):
    assert field_label(loc) == label


def test_every_operation_has_a_german_summary(client):
    """What ``/docs`` and ``/redoc`` list first (gateway/openapi_texts.py); a new route needs its line there."""
    listed = {(method, path) for path, methods in client.spec["paths"].items() for method in methods}
    assert listed == set(SUMMARIES)
    assert {tag for _, _, op in operations(client.spec) for tag in op["tags"]} <= {
        t["name"] for t in client.spec["tags"]}
