"""Fuzzing the API by its own schema: schemathesis generates requests for every operation of /api/openapi.json
(valid ones and deliberately invalid ones) and sends them to the live test server on 127.0.0.1, as a RevOps user
and as a viewer. No answer may be a 5xx, every status must be one the operation documents, and every documented
body must match its schema.

The run is bounded and reproducible: a fixed number of examples per operation and pass, derandomized, no example
database (about three minutes per database on two cores). `SMARKETING_FUZZ_EXAMPLES` (default 3) raises the count
for a longer run by hand: RevOps gets that many valid and two thirds as many invalid requests per operation, the
viewer a third as many valid ones.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = int(os.environ.get("SMARKETING_FUZZ_EXAMPLES", "3"))
ROOT = Path(__file__).resolve().parents[1]


def _seed_small_company() -> None:
    """A few users, campaigns, contacts, touches, stage changes and feedback (the browser tests' small seed)."""
    spec = importlib.util.spec_from_file_location("seed_small", ROOT / "tests" / "browser" / "seed_small.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.seed(contacts=12, rng=random.Random(7))


@pytest.fixture
def fuzz_tokens(transactional_db) -> dict[str, Any]:
    """The fuzzing users' tokens, and a spare user and token for the operations that revoke or deactivate."""
    from smarketing.team.models import User
    from smarketing.team.services import api_token_create, user_create

    _seed_small_company()
    tokens: dict[str, Any] = {role: api_token_create(user=User.objects.get(username=name), name="fuzz")[1]
                              for role, name in (("revops", "rita.revops"), ("viewer", "vic.viewer"))}
    spare = user_create(username="spare", password="spare-password-1", role="sales", email="spare@example.com")
    # Why: a generated id must never revoke or demote the fuzzing users themselves (the run would go on as 401s).
    tokens["fixed"] = {"DELETE /api/team/tokens/{token_id}": {"token_id": api_token_create(user=spare, name="spare")[0].pk},
                       "PATCH /api/team/users/{user_id}": {"user_id": spare.pk}}
    return tokens


def _fuzz(base_url: str, token: str, *, mode: Any, examples: int,
          fixed: dict[str, dict[str, int]]) -> list[str]:
    """Every operation, `examples` generated cases each; the failures found, one line per operation."""
    import requests
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    from smarketing.api import api

    # The document the server serves at /api/openapi.json, built in process (no load over a busy machine's loopback).
    schema = schemathesis.openapi.from_dict(json.loads(json.dumps(api.get_openapi_schema())))
    checks = [not_a_server_error, status_code_conformance, content_type_conformance]
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}
    found: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=examples, derandomize=True, database=None, deadline=None, print_blob=False,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode, path_parameters=fixed.get(operation.label)))
        def run(case: Any) -> None:
            response = case.call(base_url=base_url, session=session, headers=headers, timeout=60)
            # Why: a YAML export is text; schemathesis would parse it and compare the parsed object to "string".
            json_body = response.headers.get("Content-Type", "").startswith("application/json")
            case.validate_response(response, checks=checks + ([response_schema_conformance] if json_body else []),
                                   headers=headers)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # every operation is tried; the failures are reported together
            found.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:1500]}")
    return found


@pytest.mark.slow
def test_fuzzing_the_openapi_schema_finds_no_server_error_and_no_undocumented_status(live_server, fuzz_tokens):
    from schemathesis import GenerationMode

    assert live_server.url.startswith("http://localhost") or live_server.url.startswith("http://127.0.0.1")
    base_url = live_server.url.replace("localhost", "127.0.0.1")

    passes = [("revops", GenerationMode.POSITIVE, EXAMPLES), ("revops", GenerationMode.NEGATIVE, EXAMPLES * 2 // 3),
              ("viewer", GenerationMode.POSITIVE, EXAMPLES // 3)]
    found = []
    for role, mode, examples in passes:
        found += [f"[{role}, {mode.value}] {line}" for line in
                  _fuzz(base_url, fuzz_tokens[role], mode=mode, examples=max(examples, 1), fixed=fuzz_tokens["fixed"])]

    assert found == [], "\n\n".join(found)
