"""Simulated boxes for devices someone else adds (``guificloud agent sim --adopt``).

A member adds devices through the registry (by hand, a script, a CNML import); each becomes a
box once the provisioner has configured it. Adoption asks the provisioner for its boxes
every ``poll_interval_s`` and yields the configuration of each configured box it has not
yet yielded, so a fleet runs an agent for it at once: boxes start while a burst of
additions is still being handled, as real boxes plugged in one by one would. A provisioner
that does not answer (restarting, its database away) is asked again; that is logged one
line per kind of failure and ten seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from guificloud.boxes import BoxConfig
from guificloud.failures import describe, kind
from guificloud.logging import Throttle, get_logger
from guificloud.tls import verify
from guificloud_agent.enroll import EnrollmentError

log = get_logger(__name__)

LIST_LIMIT = 5000
"""The most boxes one listing returns (the provisioner's own bound)."""


async def configured_boxes(
    provisioner_url: str,
    admin_token: str,
    stop: asyncio.Event,
    *,
    limit: int,
    poll_interval_s: float = 0.5,
    ca: Path | None = None,
) -> AsyncIterator[BoxConfig]:
    """The configuration of each box the provisioner configures, once, until ``limit`` boxes
    or ``stop``."""
    base = provisioner_url.rstrip("/")
    auth = {"Authorization": f"Bearer {admin_token}"}
    seen: set[str] = set()
    throttle = Throttle()
    async with httpx.AsyncClient(timeout=10.0, verify=verify(ca)) as http:
        while not stop.is_set() and len(seen) < limit:
            try:
                response = await http.get(f"{base}/api/v1/boxes", params={"limit": LIST_LIMIT})
                response.raise_for_status()
                waiting = [
                    str(box["id"])
                    for box in response.json()
                    if box["state"] != "registered" and str(box["id"]) not in seen
                ]
                for box_id in waiting[: limit - len(seen)]:
                    answer = await http.get(f"{base}/api/v1/boxes/{box_id}/config", headers=auth)
                    if answer.status_code in (401, 403):
                        raise EnrollmentError(f"the provisioner refused the admin token ({base})")
                    answer.raise_for_status()
                    seen.add(box_id)
                    log.info("fleet.adopted", box_id=box_id, boxes=len(seen))
                    yield BoxConfig.model_validate_json(answer.content)
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                if count := throttle.admit(kind(exc)):
                    log.warning("fleet.adoption_waiting", error=describe(exc), count=count)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll_interval_s)
