"""Schemathesis against the OpenAPI document of every service: no answer may be a 5xx, and
every answer must be one the document declares (its status, media type and schema).

Every check runs (``--checks all``) but one: ``positive_data_acceptance`` wants every input
the document allows to be accepted, and what the documents cannot say is refused with a
422 or 412 on purpose: a ``zone_id`` that names no zone, a bounding box whose minimums
exceed its maximums, a CNML file that does not parse, a device or service type the network
does not know, an ``If-Match`` naming an older version. Its mirror, that input the document
forbids is refused, runs (``negative_data_rejection``).

Every operation is fuzzed with the admin token. Without it, only the operations that need
a token are (the others ignore the header, so a second run would test nothing new); the
``ignored_auth`` check also sends those without and with a wrong token in the first run.
Bounded: 20 examples per operation and phase, one seed, about two minutes in all.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.system import ADMIN_TOKEN, SERVICES, System

pytestmark = pytest.mark.fuzz

REPO_ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = 20
TIMEOUT_S = 600


def _schemathesis(url: str, tmp_path: Path, *options: str) -> None:
    argv = [
        *(sys.executable, "-m", "schemathesis.cli", "run", url),
        *("--checks", "all", "--exclude-checks", "positive_data_acceptance"),
        *("--max-examples", str(MAX_EXAMPLES), "--seed", "1", "--workers", "1"),
        *("--suppress-health-check", "all", "--generation-database", "none"),
        *("--report", "json", "--report-dir", str(tmp_path), "--no-color"),
        *options,
    ]
    pythonpath = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks", "PYTHONPATH": pythonpath}
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=TIMEOUT_S, cwd=tmp_path, env=env
    )
    print(done.stdout[done.stdout.rfind("SUMMARY") :])
    assert done.returncode == 0, done.stdout[-30_000:] + done.stderr[-5_000:]


def _needing_a_token(url: str) -> list[str]:
    document = httpx.get(url, timeout=10).json()
    return [
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and operation.get("security")
    ]


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_with_the_admin_token(
    fuzzed_system: System, service: str, tmp_path: Path
) -> None:
    url = fuzzed_system.url(service, "/api/v1/openapi.json")
    _schemathesis(url, tmp_path, "--header", f"Authorization: Bearer {ADMIN_TOKEN}")


@pytest.mark.parametrize("service", SERVICES)
def test_operations_needing_a_token_without_it(
    fuzzed_system: System, service: str, tmp_path: Path
) -> None:
    url = fuzzed_system.url(service, "/api/v1/openapi.json")
    guarded = _needing_a_token(url)
    if not guarded:
        pytest.skip(f"no operation of the {service} needs a token")
    _schemathesis(url, tmp_path, *(a for i in guarded for a in ("--include-operation-id", i)))
