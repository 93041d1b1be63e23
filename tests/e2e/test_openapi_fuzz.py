"""The whole OpenAPI of the running hub fuzzed with a token of each role: no request answers 5xx.

Schemathesis generates requests from ``/openapi.json``, valid ones and ones that break the schema, and
the only check is ``not_a_server_error``: whatever a user sends, the hub answers 2xx or 4xx. A 500
found here is a bug in the gateway or a service, to be fixed there (a 4xx problem+json naming the
problem). The run is bounded (a few examples per operation and mode) and derandomized: the same
requests every time. Path and query parameters draw now and then from a dictionary of values that
broke the hub before (whitespace the models strip away, integers beyond BIGINT, NUL),
so that a bounded run still meets them; test_fuzz_findings.py pins each of those bugs down.
Schemathesis never puts NUL into a path parameter (it filters such values out) and the fuzzed bodies
rarely get past validation, so the NUL checks are in test_fuzz_findings.py alone.

Schemathesis's own pytest plugin (``schemathesis.pytest.from_fixture``) fails under pytest 9 (it reads
``Function._nodeid``), so each operation gets a plain Hypothesis test over its strategy.
"""
from __future__ import annotations

import time

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

USERS = {"case_manager": "cm.rsk", "clerk": "clerk.troisdorf-abh", "dpo": "dpo", "admin": "admin"}
EXAMPLES = 15
CONFIG = {  # values that broke the hub before, drawn instead of a generated one with the given probability
    "dictionaries": {"text": {"values": ["\x85ab", " ab ", "a\x00b"]}, "int": {"values": [2**63, -(2**63) - 1]}},
    "generation": {"dictionaries": {"string": {"dictionary": "text", "probability": 0.25},
                                    "integer": {"dictionary": "int", "probability": 0.5}}},
}
SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                    suppress_health_check=list(HealthCheck), print_blob=False)


@pytest.fixture(scope="module")
def operations(hub) -> list:
    schema = schemathesis.openapi.from_url(f"{hub.base_url}/openapi.json",
                                           config=schemathesis.Config.from_dict(CONFIG))
    results = list(schema.get_all_operations())
    errors = [r.err() for r in results if not isinstance(r, Ok)]
    assert not errors, errors
    return [r.ok() for r in results]


def fuzz(operation, mode: GenerationMode, role: str, token: str) -> str | None:
    """Run one operation's examples in one mode; a description of the (shrunk) 5xx, or None."""
    headers = {"Authorization": f"Bearer {token}"}

    @SETTINGS
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        where = f"{operation.label} as {role} ({mode.value})"
        try:
            response = case.call(headers=headers, timeout=10)
        except requests.RequestException as exc:  # e.g. a stream that broke off: a server error as well
            raise AssertionError(f"{where}: no complete answer: {exc!r}\n  {case.as_curl_command()}") from exc
        try:
            case.validate_response(response, checks=[not_a_server_error])
        except BaseExceptionGroup as exc:  # schemathesis's FailureGroup: not an Exception subclass
            raise AssertionError(f"{where}: {response.status_code} {response.text[:300]}\n"
                                 f"  {case.as_curl_command()}") from exc

    try:
        run()
    except AssertionError as exc:
        return str(exc)
    except Unsatisfiable:  # nothing in the request can break the schema (no parameters, no body)
        if mode is GenerationMode.POSITIVE:
            raise
    return None


@pytest.mark.parametrize("role", list(USERS))
def test_no_request_answers_5xx(hub, operations, role):
    token = hub.token(USERS[role])
    started = time.monotonic()
    failures = [f for op in operations for mode in GenerationMode if (f := fuzz(op, mode, role, token))]
    print(f"{len(operations)} operations as {role}: {time.monotonic() - started:.1f}s")
    assert not failures, "\n\n".join(failures) + f"\n\nhub log:\n{hub.log_tail(60)}"
