"""A store accepts signed images only unless told otherwise
(``GUIFICLOUD_IMAGESTORE_REQUIRE_SIGNATURE=false``, a development setting)."""

from __future__ import annotations

import httpx
import pytest

from tests.imagestore.helpers import OCTETS, Publisher, archive, fields_named, meta, sha256, upload

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def imagestore_env() -> dict[str, str]:
    """The default: signatures required."""
    return {}


async def test_unsigned_uploads_are_refused_naming_the_signature(
    client: httpx.AsyncClient,
) -> None:
    single = await upload(client, archive(100))
    assert single.status_code == 422 and "signature" in fields_named(single)
    session = await client.post("/api/v1/uploads", json={**meta(), "size": 100})
    assert session.status_code == 422 and "signature" in fields_named(session)


async def test_signed_upload_is_accepted(client: httpx.AsyncClient) -> None:
    publisher = Publisher()
    await publisher.trust(client)
    data, m = archive(100), meta()
    params = {
        **m,
        "signature": publisher.sign(m["name"], m["version"], m["arch"], sha256(data)),
        "key_id": publisher.key_id,
    }
    response = await client.post("/api/v1/images", params=params, content=data, headers=OCTETS)
    assert response.status_code == 201, response.text
