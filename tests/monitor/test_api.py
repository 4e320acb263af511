"""Bad HTTP input gets a 4xx naming the field; an unknown box gets 404."""

from __future__ import annotations

from uuid import uuid4

import pytest

from tests.monitor.observe import MonitorApi

pytestmark = pytest.mark.integration


MALFORMED = [
    ("/api/v1/boxes/not-a-uuid", ["path", "box_id"]),
    ("/api/v1/boxes/1234/heartbeats", ["path", "box_id"]),
    ("/api/v1/boxes/xyz/transitions", ["path", "box_id"]),
    ("/api/v1/boxes?state=sideways", ["query", "state"]),
    ("/api/v1/boxes?zone_id=zone-7", ["query", "zone_id"]),
    ("/api/v1/boxes?node_id=12", ["query", "node_id"]),
    ("/api/v1/boxes?limit=0", ["query", "limit"]),
    (f"/api/v1/boxes/{uuid4()}/heartbeats?limit=-5", ["query", "limit"]),
]


async def test_unknown_box_is_404_and_malformed_input_422_naming_the_field(api: MonitorApi) -> None:
    box_id = uuid4()
    for suffix in ("", "/heartbeats", "/transitions"):
        response = await api.http.get(f"/api/v1/boxes/{box_id}{suffix}")
        assert response.status_code == 404, suffix
        assert str(box_id) in response.json()["detail"]
    for path, field in MALFORMED:
        response = await api.http.get(path)
        assert response.status_code == 422, (path, response.text)
        assert [error["loc"] for error in response.json()["detail"]] == [field], path


async def test_empty_fleet_and_openapi(api: MonitorApi) -> None:
    assert await api.get("/fleet") == {
        "online": 0,
        "offline": 0,
        "unknown": 0,
        "total": 0,
        "zones": [],
    }
    assert await api.get("/boxes") == []
    paths = (await api.get("/openapi.json"))["paths"]
    assert {
        "/api/v1/boxes",
        "/api/v1/boxes/{box_id}",
        "/api/v1/boxes/{box_id}/heartbeats",
        "/api/v1/boxes/{box_id}/transitions",
        "/api/v1/fleet",
    } <= set(paths)
