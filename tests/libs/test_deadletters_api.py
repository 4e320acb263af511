"""Dead letters seen, replayed and discarded through a service's API, with real consumers:
a handler refuses boxes that are not in a table yet (a real condition the test then fixes)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from uuid import UUID, uuid4

import pytest
import pytest_asyncio
from sqlalchemy import text

from guificloud.bus.consumer import Consumer, Subscription
from guificloud.db.uow import UnitOfWork
from guificloud.errors import PermanentFailure
from guificloud.events.envelope import Envelope
from guificloud.events.provisioner import BoxSync
from guificloud.streams import BOXES, DEADLETTER
from guificloud.testing.authority import ADMIN_TOKEN
from guificloud.testing.inprocess import InProcessService, service_in_process
from guificloud_registry.service import DEFINITION
from guificloud_registry.settings import RegistrySettings
from tests.libs.messaging_support import eventually

pytestmark = pytest.mark.integration

PATH = "/api/v1/deadletters"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@dataclass
class Fleet:
    """Two consumers of the same subject: ``t-strict`` refuses boxes not allowed yet,
    ``t-lenient`` takes everything."""

    served: InProcessService
    strict: list[int] = field(default_factory=list)
    lenient: list[int] = field(default_factory=list)

    async def allow(self, box_id: UUID) -> None:
        async with self.served.runtime.engine.begin() as conn:
            await conn.execute(text("INSERT INTO t_allowed VALUES (:id)"), {"id": box_id})

    async def publish(self, generation: int) -> UUID:
        event = BoxSync(box_id=uuid4(), generation=generation)
        await self.served.runtime.bus.publish(event.subject(), Envelope.wrap(event, source="t"))
        box_id: UUID = event.box_id
        return box_id

    async def dead_letters(self) -> int:
        info = await self.served.runtime.bus.js.stream_info(DEADLETTER.name)
        return int(info.state.messages)

    async def settled(self, durable: str) -> bool:
        info = await self.served.runtime.bus.js.consumer_info(BOXES.name, durable)
        return bool(info.num_pending == 0 and info.num_ack_pending == 0)


@pytest_asyncio.fixture
async def fleet(database_url: str, nats_url: str) -> AsyncIterator[Fleet]:
    settings = RegistrySettings(
        database_url=database_url, nats_url=nats_url, admin_token=ADMIN_TOKEN
    )
    async with service_in_process(DEFINITION, settings) as served:
        runtime = served.runtime
        await runtime.bus.declare((BOXES,))
        async with runtime.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t_allowed (box_id uuid PRIMARY KEY)"))
        fleet = Fleet(served)

        async def strict(event: BoxSync, uow: UnitOfWork) -> None:
            found = await uow.session.execute(
                text("SELECT 1 FROM t_allowed WHERE box_id = :id"), {"id": event.box_id}
            )
            if found.first() is None:
                raise PermanentFailure(f"box {event.box_id} is not allowed yet")
            fleet.strict.append(event.generation)

        async def lenient(event: BoxSync, _uow: UnitOfWork) -> None:
            fleet.lenient.append(event.generation)

        consumers = [
            Consumer(
                runtime.bus,
                Subscription(
                    stream=BOXES.name,
                    durable=durable,
                    handlers={BoxSync: handler},
                    subjects=("box.*.sync",),
                ),
                runtime.uow,
                service=runtime.definition.name,
            )
            for durable, handler in (("t-strict", strict), ("t-lenient", lenient))
        ]
        stop = asyncio.Event()
        tasks = [asyncio.create_task(c.run(stop)) for c in consumers]
        try:
            yield fleet
        finally:
            stop.set()
            await asyncio.gather(*tasks)


async def test_dead_letters_are_listed_replayed_once_fixed_and_discarded(fleet: Fleet) -> None:
    http = fleet.served.client
    box = await fleet.publish(1)
    await fleet.served.runtime.bus.js.publish(f"box.{uuid4()}.sync", b"not json")
    await eventually(lambda: _at_least(fleet.dead_letters(), 3), what="three dead letters")
    assert fleet.lenient == [1] and fleet.strict == []

    everything = (await http.get(PATH, headers=ADMIN)).json()
    assert [d["durable"] for d in everything].count("t-strict") == 2
    strict = (await http.get(PATH, params={"durable": "t-strict"}, headers=ADMIN)).json()
    [refused] = [d for d in strict if d["event_type"] == "box.sync.requested"]
    [malformed] = [d for d in strict if d["event_type"] is None]
    assert refused["reason"] == f"box {box} is not allowed yet"
    assert refused["subject"] == f"box.{box}.sync" and refused["stream"] == BOXES.name
    assert malformed["reason"].startswith("malformed envelope")
    on_subject = await http.get(PATH, params={"subject": f"box.{box}.*"}, headers=ADMIN)
    assert [d["seq"] for d in on_subject.json()] == [refused["seq"]]
    first_page = await http.get(PATH, params={"limit": 1}, headers=ADMIN)
    assert len(first_page.json()) == 1 and 'rel="next"' in first_page.headers["Link"]
    next_url = first_page.links["next"]["url"]
    assert (await http.get(next_url, headers=ADMIN)).json()[0]["seq"] > first_page.json()[0]["seq"]

    shown = (await http.get(f"{PATH}/{refused['seq']}", headers=ADMIN)).json()
    assert str(box) in shown["payload"] and shown["event_id"] == refused["event_id"]

    await fleet.allow(box)  # the fix
    replay = await http.post(f"{PATH}/{refused['seq']}/replay", headers=ADMIN)
    assert replay.status_code == 200 and replay.json() == {"replayed": [refused["seq"]]}
    await eventually(lambda: fleet.strict == [1], what="the replay handled")
    await eventually(lambda: fleet.settled("t-lenient"), what="t-lenient saw the replay")
    assert fleet.lenient == [1], "the consumer that had handled it skips the replay"
    assert (await http.get(f"{PATH}/{refused['seq']}", headers=ADMIN)).status_code == 404
    again = await http.post(f"{PATH}/{refused['seq']}/replay", headers=ADMIN)
    assert again.status_code == 404

    discarded = await http.delete(f"{PATH}/{malformed['seq']}", headers=ADMIN)
    assert discarded.status_code == 204
    assert (await http.get(f"{PATH}/{malformed['seq']}", headers=ADMIN)).status_code == 404
    assert (await http.delete(f"{PATH}/{malformed['seq']}", headers=ADMIN)).status_code == 404


async def test_replay_all_of_a_durable_and_only_this_services_letters(fleet: Fleet) -> None:
    http = fleet.served.client
    boxes = [await fleet.publish(generation) for generation in (2, 3)]
    await eventually(lambda: _at_least(fleet.dead_letters(), 2), what="two dead letters")
    js = fleet.served.runtime.bus.js
    other = await js.publish("deadletter.monitor.m-boxes", b"{}")  # another service's
    for box in boxes:
        await fleet.allow(box)
    replayed = await http.post(f"{PATH}/replay", params={"durable": "t-strict"}, headers=ADMIN)
    assert replayed.status_code == 200 and len(replayed.json()["replayed"]) == 2
    await eventually(lambda: sorted(fleet.strict) == [2, 3], what="both replays handled")
    assert sorted(fleet.lenient) == [2, 3]
    assert (await http.get(f"{PATH}/{other.seq}", headers=ADMIN)).status_code == 404
    assert (await http.get(PATH, headers=ADMIN)).json() == []
    bad = await http.get(PATH, params={"durable": "a.>"}, headers=ADMIN)
    assert bad.status_code == 422


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", PATH),
        ("GET", f"{PATH}/1"),
        ("POST", f"{PATH}/1/replay"),
        ("POST", f"{PATH}/replay"),
        ("DELETE", f"{PATH}/1"),
    ],
)
async def test_every_dead_letter_route_refuses_without_the_admin_token(
    fleet: Fleet, method: str, path: str
) -> None:
    await fleet.publish(4)  # refused by t-strict: there is a dead letter to protect
    await eventually(lambda: _at_least(fleet.dead_letters(), 1), what="a dead letter")
    http = fleet.served.client
    anonymous = await http.request(method, path)
    wrong = await http.request(method, path, headers={"Authorization": "Bearer guess"})
    assert anonymous.status_code == wrong.status_code == 401
    assert "authentication required" in anonymous.json()["detail"]
    assert await fleet.dead_letters() == 1, "nothing replayed or discarded"


async def _at_least(count: object, wanted: int) -> bool:
    return int(await count) >= wanted  # type: ignore[misc]
