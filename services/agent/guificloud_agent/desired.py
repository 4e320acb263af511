"""Fetching the box's desired state from the provisioner (``GET /api/v1/boxes/{id}/desired``)."""

from __future__ import annotations

import httpx
from pydantic import ValidationError

from guificloud.boxes import BoxConfig, DesiredState


class DesiredStateUnavailable(Exception):
    """No usable answer this time (unreachable, 401, 404, garbage); the caller retries."""


class DesiredStateClient:
    def __init__(self, config: BoxConfig, http: httpx.AsyncClient) -> None:
        self._box_id = config.box_id
        self._url = f"{config.provisioner_url.rstrip('/')}/api/v1/boxes/{config.box_id}/desired"
        self._headers = {"Authorization": f"Bearer {config.token}"}
        self._http = http

    async def fetch(self) -> DesiredState:
        try:
            response = await self._http.get(self._url, headers=self._headers)
        except httpx.HTTPError as exc:
            raise DesiredStateUnavailable(
                f"provisioner unreachable: {type(exc).__name__}: {exc}"
            ) from exc
        if response.status_code == 401:
            raise DesiredStateUnavailable(
                "provisioner refused the box token (401): revoked, or replaced by a newer"
                " configuration of this box (each fetch of it issues a new token)"
            )
        if response.status_code == 404:
            raise DesiredStateUnavailable("provisioner does not know this box (404)")
        if response.status_code != 200:
            raise DesiredStateUnavailable(f"provisioner answered {response.status_code}")
        try:
            desired = DesiredState.model_validate_json(response.content)
        except ValidationError as exc:
            raise DesiredStateUnavailable(f"invalid desired state: {exc}") from exc
        if desired.box_id != self._box_id:
            raise DesiredStateUnavailable(f"desired state is for box {desired.box_id}")
        return desired
