"""Runs every benchmark in this folder, one after the other, each in its own process.

Progress of each goes to standard error; standard output gets one JSON line per benchmark:
``{"bench": "<name>", ...}`` with the figures that benchmark printed as its last line (or
``"error"`` with its exit code when it failed), so that a run can be kept and compared.

    .venv/bin/python bench/all.py [--only onboarding,slices]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def benchmarks() -> list[Path]:
    """The scripts of this folder that run on their own (modules they import do not)."""
    return sorted(
        path
        for path in HERE.glob("*.py")
        if path.name != Path(__file__).name and '__name__ == "__main__"' in path.read_text()
    )


def run(script: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=None, text=True, check=False
    )
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    result: dict[str, object] = {"bench": script.stem}
    if done.returncode != 0 or not lines:
        result["error"] = f"exit code {done.returncode}"
        return result
    try:
        result.update(json.loads(lines[-1]))
    except json.JSONDecodeError:
        result["error"] = f"last line is not JSON: {lines[-1][:200]}"
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="Comma-separated names (default: all).")
    args = parser.parse_args()
    wanted = {name for name in args.only.split(",") if name}
    failed = 0
    for script in benchmarks():
        if wanted and script.stem not in wanted:
            continue
        result = run(script)
        failed += "error" in result
        print(json.dumps(result), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
