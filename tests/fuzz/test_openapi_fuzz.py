"""Schemathesis against the OpenAPI document of every service, with and without the admin
token: no answer may be a 5xx, and every answer must be one the document declares."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.system import ADMIN_TOKEN, SERVICES, System

pytestmark = pytest.mark.fuzz

REPO_ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = int(os.environ.get("H2_FUZZ_EXAMPLES", "30"))
CHECKS = os.environ.get("H2_FUZZ_CHECKS", "all")
EXCLUDED = os.environ.get("H2_FUZZ_EXCLUDED", "positive_data_acceptance")


@pytest.mark.parametrize("who", ["anonymous", "admin"])
@pytest.mark.parametrize("service", SERVICES)
def test_openapi_fuzz(fuzzed_system: System, service: str, who: str, tmp_path: Path) -> None:
    argv = [
        *(sys.executable, "-m", "schemathesis.cli", "run"),
        fuzzed_system.url(service, "/api/v1/openapi.json"),
        *("--checks", CHECKS),
        *(("--exclude-checks", EXCLUDED) if EXCLUDED else ()),
        *("--max-examples", str(MAX_EXAMPLES)),
        *("--seed", "1"),
        *("--workers", "1"),
        *("--suppress-health-check", "all"),
        *("--generation-database", "none"),
        *("--report", "json", "--report-dir", str(tmp_path)),
        "--no-color",
    ]
    argv += os.environ.get("H2_FUZZ_EXTRA", "").split()
    if who == "admin":
        argv += ["--header", f"Authorization: Bearer {ADMIN_TOKEN}"]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    out = os.environ.get("H2_FUZZ_OUT")
    if out:
        Path(out, f"{service}-{who}.txt").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-5000:]
