"""How long verifying one access token takes: what authentication adds to every request.

The verifier as every service runs it (Ed25519 signature, audience, expiry, claims to a
``Principal``) with its key set cached, as after the first request. Prints one JSON line:
``auth_check_us`` (median) and ``auth_check_p99_us`` for a token seen the first time (the
whole check), and ``auth_check_cached_us`` for a token the verifier has verified before (a
client's next requests with the same token).

    .venv/bin/python bench/auth.py [--count 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from uuid import uuid4

from guificloud.testing.tokens import TokenMint


def _timed(timings: list[float], start: float) -> None:
    timings.append((time.perf_counter() - start) * 1e6)


async def measure(count: int) -> tuple[list[float], list[float]]:
    mint = TokenMint()
    groups = {uuid4(): {"slice_admin", "node_admin"} for _ in range(3)}
    member = mint.member(groups=groups, zones=[uuid4()])
    tokens = [mint.token(member) for _ in range(count)]
    verifier = mint.verifier()
    await verifier.verify(mint.token(member))  # fetches the key set, as a first request does
    first: list[float] = []
    for token in tokens:
        start = time.perf_counter()
        await verifier.verify(token)
        _timed(first, start)
    again: list[float] = []
    for _ in range(count):
        start = time.perf_counter()
        await verifier.verify(tokens[0])
        _timed(again, start)
    return sorted(first), sorted(again)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5_000)
    args = parser.parse_args()
    first, again = asyncio.run(measure(args.count))
    print(f"verified {len(first)} tokens, then one {len(again)} times", file=sys.stderr)
    print(
        json.dumps(
            {
                "auth_check_us": round(statistics.median(first), 1),
                "auth_check_p99_us": round(first[int(len(first) * 0.99) - 1], 1),
                "auth_check_cached_us": round(statistics.median(again), 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
