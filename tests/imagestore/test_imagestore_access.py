"""Who may do what in the image store (services/imagestore/README.md, "Who may do what"),
row by row: the allowed callers succeed; anonymous, another group's member, a member without
the role, an expired token and a revoked token are refused, and nothing changes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import pytest_asyncio

from guificloud.auth.principal import Principal
from guificloud.signing import generate_key
from guificloud.testing.authority import TestAuthority, bearer
from guificloud.testing.processes import ServiceProcess
from guificloud.testing.servers import Servers
from tests.imagestore.helpers import (
    ADMIN,
    OCTETS,
    archive,
    fields_named,
    meta,
    patch,
    published,
    tell_group,
    unique_name,
    upload,
)

pytestmark = pytest.mark.integration

Headers = dict[str, str]


@dataclass(frozen=True)
class Callers:
    group: UUID
    publisher: Principal
    group_admin: Principal
    member: Principal
    """In the group, without a publishing role."""
    other: Principal
    """A publisher of another group."""
    revoked: Principal
    """A publisher of the group whose session was revoked."""
    authority: TestAuthority

    def headers(self, kind: str) -> Headers:
        if kind == "anonymous":
            return {}
        if kind == "expired":
            return bearer(self.authority.token(self.publisher, issued_at=int(time.time()) - 3600))
        if kind == "operator":
            return self.authority.headers(self.authority.operator())
        if kind == "admin-token":
            return ADMIN
        principal: Principal = getattr(self, kind)
        return self.authority.headers(principal)


REFUSED = [
    ("anonymous", 401, "authentication required"),
    ("other", 403, "requires role"),
    ("member", 403, "requires role"),
    ("expired", 401, "expired"),
    ("revoked", 401, "revoked"),
]
OPERATORS_REFUSE = [
    (kind, status, "operators only" if status == 403 else says) for kind, status, says in REFUSED
]
REFUSED_IDS = [kind for kind, _, _ in REFUSED]


@pytest_asyncio.fixture(scope="module")
async def callers(
    imagestore: ServiceProcess, authority: TestAuthority, servers: Servers, module_database_url: str
) -> Callers:
    group, elsewhere = uuid4(), uuid4()
    for gid in (group, elsewhere):
        await tell_group(authority, servers.nats_url, module_database_url, gid)
    made = Callers(
        group=group,
        publisher=authority.member(groups={group: {"publisher"}}),
        group_admin=authority.member(groups={group: {"group_admin"}}),
        member=authority.member(groups={group: {"node_admin", "slice_admin"}}),
        other=authority.member(groups={elsewhere: {"publisher"}}),
        revoked=authority.member(groups={group: {"publisher"}}),
        authority=authority,
    )
    await authority.revoke(servers.nats_url, made.revoked)
    async with httpx.AsyncClient(base_url=imagestore.url, timeout=10.0) as c:
        deadline = time.monotonic() + 10
        while (await c.get("/api/v1/uploads", headers=made.headers("revoked"))).status_code != 401:
            assert time.monotonic() < deadline, "the revocation never reached the store"
            await asyncio.sleep(0.1)
    return made


@pytest_asyncio.fixture
async def anon(imagestore: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    """A client that sends only the credentials a test gives it."""
    async with httpx.AsyncClient(base_url=imagestore.url, timeout=10.0) as c:
        yield c


def refused(response: httpx.Response, status: int, says: str) -> None:
    assert response.status_code == status, response.text
    if response.request.method != "HEAD":  # no body to say it in
        assert says in response.json()["detail"], response.text
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def images_named(client: httpx.AsyncClient, name: str) -> list[str]:
    """The states of every image of that name, uploading and deleted ones too."""
    states = ("uploading", "active", "deprecated", "deleted")
    found = await asyncio.gather(
        *(client.get("/api/v1/images", params={"name": name, "state": s}) for s in states)
    )
    return [image["state"] for response in found for image in response.json()]


async def group_image(anon: httpx.AsyncClient, callers: Callers) -> dict[str, Any]:
    return await published(
        anon, archive(500), group_id=str(callers.group), headers=callers.headers("publisher")
    )


# --- publishing ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["publisher", "group_admin", "operator"])
async def test_a_publisher_of_the_group_publishes_for_it(
    anon: httpx.AsyncClient, callers: Callers, kind: str
) -> None:
    name = unique_name()
    params = {**meta(name), "group_id": str(callers.group)}
    response = await anon.post(
        "/api/v1/images",
        params=params,
        content=archive(600),
        headers={**OCTETS, **callers.headers(kind)},
    )
    assert response.status_code == 201, response.text
    image = response.json()
    assert image["group_id"] == str(callers.group)
    if kind != "operator":
        assert image["published_by"] == str(getattr(callers, kind).id)


@pytest.mark.parametrize(("kind", "status", "says"), REFUSED, ids=REFUSED_IDS)
async def test_publishing_is_refused_to_others(
    anon: httpx.AsyncClient, callers: Callers, kind: str, status: int, says: str
) -> None:
    name = unique_name()
    response = await anon.post(
        "/api/v1/images",
        params={**meta(name), "group_id": str(callers.group)},
        content=archive(600),
        headers={**OCTETS, **callers.headers(kind)},
    )
    refused(response, status, says)
    assert await images_named(anon, name) == []


@pytest.mark.parametrize("kind", ["publisher", "group_admin"])
async def test_a_publisher_opens_an_upload_session_for_the_group(
    anon: httpx.AsyncClient, callers: Callers, kind: str
) -> None:
    body = {**meta(), "size": 100, "group_id": str(callers.group)}
    response = await anon.post("/api/v1/uploads", json=body, headers=callers.headers(kind))
    assert response.status_code == 201, response.text
    session = response.json()
    assert session["group_id"] == str(callers.group)
    assert session["opened_by"] == str(getattr(callers, kind).id)


@pytest.mark.parametrize(("kind", "status", "says"), REFUSED, ids=REFUSED_IDS)
async def test_opening_an_upload_session_is_refused_to_others(
    anon: httpx.AsyncClient, callers: Callers, kind: str, status: int, says: str
) -> None:
    name = unique_name()
    body = {**meta(name), "size": 100, "group_id": str(callers.group)}
    refused(
        await anon.post("/api/v1/uploads", json=body, headers=callers.headers(kind)), status, says
    )
    assert await images_named(anon, name) == []


async def test_only_operators_publish_without_a_group(
    anon: httpx.AsyncClient, callers: Callers
) -> None:
    name = unique_name()
    single = await upload(anon, archive(500), name=name, headers=callers.headers("publisher"))
    assert single.status_code == 422 and "group_id" in fields_named(single), single.text
    body = {**meta(name), "size": 100}
    session = await anon.post("/api/v1/uploads", json=body, headers=callers.headers("publisher"))
    assert session.status_code == 422 and "group_id" in fields_named(session), session.text
    assert await images_named(anon, name) == []
    image = await published(anon, archive(500), name=name, headers=callers.headers("operator"))
    assert image["group_id"] is None


async def test_a_group_the_store_never_heard_of_is_refused(
    anon: httpx.AsyncClient, callers: Callers
) -> None:
    unknown = uuid4()
    headers = callers.authority.headers(callers.authority.member(groups={unknown: {"publisher"}}))
    response = await upload(anon, archive(500), group_id=str(unknown), headers=headers)
    refused(response, 403, "unknown to this service")


@pytest.mark.parametrize(
    ("scopes", "status"), [(["images.read"], 403), (["images.publish"], 201), (["images.*"], 201)]
)
async def test_a_tool_token_needs_the_publish_scope(
    anon: httpx.AsyncClient, callers: Callers, scopes: list[str], status: int
) -> None:
    tool = callers.authority.member(
        kind="tool", groups={callers.group: {"publisher"}}, scopes=scopes
    )
    headers = callers.authority.headers(tool)
    response = await upload(anon, archive(500), group_id=str(callers.group), headers=headers)
    assert response.status_code == status, response.text
    if status == 403:
        assert "images.publish" in response.json()["detail"]


# --- deprecating and deleting -------------------------------------------------------------


def manage(
    anon: httpx.AsyncClient, action: str, image_id: str, headers: Headers
) -> Awaitable[httpx.Response]:
    if action == "deprecate":
        return anon.post(f"/api/v1/images/{image_id}/deprecate", headers=headers)
    return anon.delete(f"/api/v1/images/{image_id}", headers=headers)


EXPECTED = {"deprecate": "deprecated", "delete": "deleted"}


@pytest.mark.parametrize("action", ["deprecate", "delete"])
@pytest.mark.parametrize("kind", ["publisher", "group_admin", "operator", "admin-token"])
async def test_the_groups_publishers_and_operators_deprecate_and_delete(
    anon: httpx.AsyncClient, callers: Callers, action: str, kind: str
) -> None:
    image = await group_image(anon, callers)
    if kind == "group_admin":  # another account of the group than the one that published
        assert image["published_by"] != str(callers.group_admin.id)
    response = await manage(anon, action, image["id"], callers.headers(kind))
    assert response.status_code == 200, response.text
    assert response.json()["state"] == EXPECTED[action]


@pytest.mark.parametrize("action", ["deprecate", "delete"])
@pytest.mark.parametrize(("kind", "status", "says"), REFUSED, ids=REFUSED_IDS)
async def test_deprecating_and_deleting_are_refused_to_others(
    anon: httpx.AsyncClient, callers: Callers, action: str, kind: str, status: int, says: str
) -> None:
    image = await group_image(anon, callers)
    refused(await manage(anon, action, image["id"], callers.headers(kind)), status, says)
    assert (await anon.get(f"/api/v1/images/{image['id']}")).json()["state"] == "active"


@pytest.mark.parametrize("action", ["deprecate", "delete"])
async def test_the_deployments_images_are_the_operators(
    anon: httpx.AsyncClient, callers: Callers, action: str
) -> None:
    image = await published(anon, archive(500), headers=ADMIN)
    for kind in ("publisher", "group_admin"):
        refused(await manage(anon, action, image["id"], callers.headers(kind)), 403, "operators")
    assert (await anon.get(f"/api/v1/images/{image['id']}")).json()["state"] == "active"


# --- keys and garbage collection: operators -----------------------------------------------


def operator_call(
    anon: httpx.AsyncClient, what: str, headers: Headers
) -> Awaitable[httpx.Response]:
    if what == "add-key":
        _, public = generate_key()
        body = {"publisher": "guifi.net", "public_key": public, "names": [unique_name()]}
        return anon.post("/api/v1/keys", json=body, headers=headers)
    if what == "revoke-key":
        return anon.delete("/api/v1/keys/0123456789abcdef", headers=headers)
    return anon.post("/api/v1/gc", headers=headers)


OPERATOR_CALLS = ["add-key", "revoke-key", "gc"]
ALLOWED_STATUS = {"add-key": 201, "revoke-key": 404, "gc": 200}
"""Revoking a key nobody added is 404: the caller got past the check."""


@pytest.mark.parametrize("what", OPERATOR_CALLS)
@pytest.mark.parametrize("kind", ["operator", "admin-token"])
async def test_operators_change_keys_and_collect_garbage(
    anon: httpx.AsyncClient, callers: Callers, what: str, kind: str
) -> None:
    response = await operator_call(anon, what, callers.headers(kind))
    assert response.status_code == ALLOWED_STATUS[what], response.text


@pytest.mark.parametrize("what", OPERATOR_CALLS)
@pytest.mark.parametrize(("kind", "status", "says"), OPERATORS_REFUSE, ids=REFUSED_IDS)
async def test_keys_and_garbage_collection_are_refused_to_others(
    anon: httpx.AsyncClient, callers: Callers, what: str, kind: str, status: int, says: str
) -> None:
    refused(await operator_call(anon, what, callers.headers(kind)), status, says)


# --- upload sessions belong to whoever opened them ----------------------------------------

SessionCall = Callable[[httpx.AsyncClient, str, Headers], Awaitable[httpx.Response]]
SESSION_CALLS: dict[str, SessionCall] = {
    "get": lambda c, sid, h: c.get(f"/api/v1/uploads/{sid}", headers=h),
    "head": lambda c, sid, h: c.head(f"/api/v1/uploads/{sid}", headers=h),
    "append": lambda c, sid, h: patch(c, sid, 0, b"x" * 10, headers=h),
    "complete": lambda c, sid, h: c.post(f"/api/v1/uploads/{sid}/complete", headers=h),
    "cancel": lambda c, sid, h: c.delete(f"/api/v1/uploads/{sid}", headers=h),
}


async def open_session(anon: httpx.AsyncClient, callers: Callers, data: bytes) -> dict[str, Any]:
    body = {**meta(), "size": len(data), "group_id": str(callers.group)}
    response = await anon.post("/api/v1/uploads", json=body, headers=callers.headers("publisher"))
    assert response.status_code == 201, response.text
    session: dict[str, Any] = response.json()
    return session


@pytest.mark.parametrize("call", list(SESSION_CALLS))
async def test_another_callers_upload_session_is_not_found(
    anon: httpx.AsyncClient, callers: Callers, call: str
) -> None:
    """404, not 403: a session id is its opener's to know; to anyone else it is as if it did
    not exist (as a finished or expired one), so ids cannot be probed."""
    data = archive(400)
    session = await open_session(anon, callers, data)
    owner = callers.headers("publisher")
    colleague = callers.authority.member(groups={callers.group: {"publisher", "group_admin"}})
    for intruder in (callers.authority.headers(colleague), callers.headers("other")):
        response = await SESSION_CALLS[call](anon, session["id"], intruder)
        assert response.status_code == 404, response.text
        if call != "head":
            assert "no upload session" in response.json()["detail"]
    refused(await SESSION_CALLS[call](anon, session["id"], {}), 401, "authentication")
    assert (await patch(anon, session["id"], 0, data, headers=owner)).status_code == 200
    done = await anon.post(f"/api/v1/uploads/{session['id']}/complete", headers=owner)
    assert done.status_code == 201, done.text
    assert done.json()["published_by"] == str(callers.publisher.id)


async def test_listing_shows_the_callers_own_sessions_and_operators_all(
    anon: httpx.AsyncClient, callers: Callers
) -> None:
    mine = await open_session(anon, callers, archive(300))
    colleague = callers.authority.member(groups={callers.group: {"publisher"}})
    theirs_body = {**meta(), "size": 300, "group_id": str(callers.group)}
    theirs = (
        await anon.post(
            "/api/v1/uploads", json=theirs_body, headers=callers.authority.headers(colleague)
        )
    ).json()

    def ids(response: httpx.Response) -> set[str]:
        assert response.status_code == 200, response.text
        return {s["id"] for s in response.json()}

    own = ids(await anon.get("/api/v1/uploads", headers=callers.headers("publisher")))
    assert mine["id"] in own and theirs["id"] not in own
    seen = ids(await anon.get("/api/v1/uploads", headers=callers.authority.headers(colleague)))
    assert theirs["id"] in seen and mine["id"] not in seen
    everyone = ids(await anon.get("/api/v1/uploads", headers=callers.headers("operator")))
    assert {mine["id"], theirs["id"]} <= everyone
    refused(await anon.get("/api/v1/uploads"), 401, "authentication")
    cancelled = await anon.delete(f"/api/v1/uploads/{theirs['id']}", headers=ADMIN)
    assert cancelled.status_code == 204, "operators may cancel any session"


# --- every change needs credentials -------------------------------------------------------

MUTATING = {"post", "put", "patch", "delete"}


async def test_every_mutating_route_refuses_anonymous_callers(anon: httpx.AsyncClient) -> None:
    document = (await anon.get("/api/v1/openapi.json")).json()
    walked = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method not in MUTATING:
                continue
            url = path.replace("{image_id}", str(uuid4())).replace("{upload_id}", str(uuid4()))
            url = url.replace("{key_id}", "0123456789abcdef").replace("{seq}", "1")
            assert "{" not in url, f"a path parameter this test does not know: {path}"
            response = await anon.request(method.upper(), url)
            assert response.status_code == 401, (method, path, response.text)
            assert {"bearer": []} in operation.get("security", []), (method, path)
            walked.append((method, path))
    assert ("post", "/api/v1/images") in walked and (
        "patch",
        "/api/v1/uploads/{upload_id}",
    ) in walked
