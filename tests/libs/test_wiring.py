"""Wiring handlers to consumers: settings are bound where asked for, a handler asking for an
unknown dependency is refused at start-up, and every service's declaration holds up."""

from __future__ import annotations

import importlib
import inspect
import typing
from types import SimpleNamespace
from typing import Any, cast

import pytest

from guificloud.bus.consumer import Handler
from guificloud.bus.wiring import ConsumerSpec, bind, wire
from guificloud.db.uow import UnitOfWork
from guificloud.events.registry import DeviceAdded
from guificloud.runtime import Runtime
from guificloud.streams import REGISTRY

pytestmark = pytest.mark.unit

SERVICES = ("registry", "provisioner", "monitor", "imagestore")


async def plain(event: DeviceAdded, uow: UnitOfWork) -> None:
    return None


async def with_settings(event: DeviceAdded, uow: UnitOfWork, *, settings: Any) -> None:
    return None


async def with_clock(event: DeviceAdded, uow: UnitOfWork, *, clock: Any) -> None:
    return None


def runtime_with(settings: object) -> Runtime:
    return cast(Runtime, SimpleNamespace(settings=settings))


def required(handler: Handler) -> list[str]:
    params = inspect.signature(handler).parameters.values()
    return [p.name for p in params if p.default is p.empty]


def within(subject: str, patterns: tuple[str, ...]) -> bool:
    """Whether every subject of a template (``{x}`` as one token) is in a stream."""

    def matches(pattern: list[str], tokens: list[str]) -> bool:
        if pattern == [">"]:
            return bool(tokens)
        if not pattern or not tokens:
            return pattern == tokens
        head = pattern[0] == tokens[0] or (pattern[0] == "*" and tokens[0] != ">")
        return head and matches(pattern[1:], tokens[1:])

    tokens = ["*" if t.startswith("{") else t for t in subject.split(".")]
    return any(matches(p.split("."), tokens) for p in patterns)


def test_settings_are_bound_only_where_a_handler_asks_for_them() -> None:
    settings = object()
    assert bind(plain, {"settings": settings}) is plain
    bound = bind(with_settings, {"settings": settings})
    assert required(bound) == ["event", "uow"]
    assert getattr(bound, "keywords", None) == {"settings": settings}


def test_a_handler_asking_for_an_unknown_dependency_is_refused_at_start_up() -> None:
    subscriptions = wire(ConsumerSpec(REGISTRY, "test-devices", {DeviceAdded: with_clock}))
    with pytest.raises(TypeError, match="with_clock asks for clock"):
        subscriptions(runtime_with(object()))


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_wires_each_event_to_a_handler_of_it(service: str) -> None:
    definition = importlib.import_module(f"guificloud_{service}.service").DEFINITION
    subscriptions = definition.subscriptions(runtime_with(object()))
    assert len({s.durable for s in subscriptions}) == len(subscriptions)
    for sub in subscriptions:
        stream = importlib.import_module("guificloud.streams").__dict__[sub.stream]
        for event, handler in sub.handlers.items():
            assert required(handler) == ["event", "uow"], (sub.durable, handler)
            target = getattr(handler, "func", handler)
            assert typing.get_type_hints(target)["event"] is event, (sub.durable, target)
            assert within(event.SUBJECT, stream.subjects), (sub.durable, event.SUBJECT)
