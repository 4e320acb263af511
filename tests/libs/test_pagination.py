"""The cursors every service's lists give out, and the refusals services share."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import httpx
import pytest
from starlette.datastructures import URL

from guificloud.errors import InvalidQuery, TooLarge, UnsupportedMedia
from guificloud.http import create_base_app
from guificloud.pagination import decode_cursor, encode_cursor, next_page_headers
from guificloud.runtime import Runtime
from guificloud.testing.tokens import TokenMint

pytestmark = pytest.mark.unit

APP_ONLY = SimpleNamespace(verifier=TokenMint().verifier())
"""What create_base_app needs of a runtime when no route reaches the database."""


def test_a_cursor_reads_back_and_a_foreign_one_is_refused() -> None:
    key = ["2016-02-01T06:29:00+00:00", "f155e482-add4-4ee4-8e7f-be780e37b01b"]
    assert decode_cursor(encode_cursor(key), 2) == key
    for foreign in ("nonsense", encode_cursor([1, 2, 3]), "%%%"):
        with pytest.raises(InvalidQuery) as refused:
            decode_cursor(foreign, 2)
        assert refused.value.field == "cursor" and refused.value.status_code == 422


def test_the_next_page_is_named_in_link_and_x_next_cursor() -> None:
    url = URL("http://registry/api/v1/nodes?limit=4&status=Working")
    assert next_page_headers(url, None) == {}
    headers = next_page_headers(url, "abc")
    assert headers["X-Next-Cursor"] == "abc"
    assert headers["Link"] == (
        '<http://registry/api/v1/nodes?limit=4&status=Working&cursor=abc>; rel="next"'
    )


async def test_too_large_and_unsupported_media_are_413_and_415() -> None:
    app = create_base_app(cast(Runtime, APP_ONLY), title="t", description="d")

    @app.post("/big")
    async def big() -> None:
        raise TooLarge("larger than 10 bytes", field="body")

    @app.post("/form")
    async def form() -> None:
        raise UnsupportedMedia("send the bytes, not a form", field="body")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        big_response, form_response = await client.post("/big"), await client.post("/form")
    assert big_response.status_code == 413
    assert form_response.status_code == 415
    assert form_response.json()["detail"][0]["msg"] == "send the bytes, not a form"
