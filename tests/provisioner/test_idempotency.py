"""A retried slice or sliver creation (same ``Idempotency-Key``) creates once and answers the
first response again; the key with another body is refused."""

from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import uuid4

import pytest

from guificloud.testing.authority import TestAuthority
from tests.provisioner.slices_support import harness

pytestmark = pytest.mark.integration

KEY = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


async def test_slices_and_slivers_are_created_once_per_key(
    authority: TestAuthority, database_url: str, nats_url: str, tmp_path: Path
) -> None:
    async with harness(authority, database_url, nats_url, tmp_path) as h:
        await h.publish_images()
        zone = await h.zone()
        first_box, second_box = await h.boxes(2, zone_id=zone)
        body = {
            "name": "lab",
            "group_id": str(h.group),
            "image": {"name": "webapp"},
            "placement": {"boxes": [str(first_box.id)]},
        }
        key = str(uuid4())
        answers = await asyncio.gather(
            *(h.client.post("/api/v1/slices", json=body, headers={KEY: key}) for _ in range(3))
        )
        assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
        assert len({a.content for a in answers}) == 1
        assert sum(REPLAYED in a.headers for a in answers) == 2
        listed = (await h.client.get("/api/v1/slices")).json()
        assert [s["id"] for s in listed] == [answers[0].json()["id"]]

        other = await h.client.post(
            "/api/v1/slices", json={**body, "name": "other"}, headers={KEY: key}
        )
        assert other.status_code == 422 and "already used" in other.json()["detail"]

        slice_id, sliver_key = answers[0].json()["id"], str(uuid4())
        path = f"/api/v1/slices/{slice_id}/slivers"
        added = [
            await h.client.post(
                path, json={"box_id": str(second_box.id)}, headers={KEY: sliver_key}
            )
            for _ in range(2)
        ]
        assert [a.status_code for a in added] == [201, 201], added[0].text
        assert added[1].headers[REPLAYED] == "true" and added[1].content == added[0].content
        assert len(await h.slivers(slice_id)) == 2

        spec = (await h.client.get("/api/v1/openapi.json")).json()
        for route in (
            "/api/v1/slices",
            "/api/v1/slices/{slice_id}/slivers",
            "/api/v1/slices/{slice_id}/reset",
            "/api/v1/slices/{slice_id}/renew",
        ):
            params = spec["paths"][route]["post"].get("parameters", [])
            assert KEY in {p["name"] for p in params if p["in"] == "header"}, route
