"""One way for a service to wire its event handlers: declared as data, bound at start-up.

A service lists its durable consumers in its ``service.py`` as ``ConsumerSpec`` values: the
stream, the durable name, the handler of each event type and, when events of different
boxes (slices, ...) may be handled at once, a partition key. A handler is a plain
``async def handle(event, uow)``; one that needs the service's settings asks for them with
a keyword-only ``settings`` parameter, which ``wire`` binds once the runtime exists (no
handler factories, no settings fetched from the runtime by the handler). A handler asking
for anything else is refused when the service starts, not at its first event.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from guificloud.bus.consumer import Handler, Subscription
from guificloud.events.envelope import Event
from guificloud.runtime import Runtime
from guificloud.streams import StreamSpec

EventHandler = Callable[..., Awaitable[None]]
"""``async (event, uow, *, settings=...) -> None``; see the module docstring."""


@dataclass(frozen=True)
class ConsumerSpec:
    """One durable consumer of a service, as the service declares it."""

    stream: StreamSpec
    durable: str
    handlers: Mapping[type[Event], EventHandler]
    partition: Callable[[Any], Hashable] | None = None


def bind(handler: EventHandler, dependencies: Mapping[str, object]) -> Handler:
    """``handler`` with the dependencies it names given; TypeError if it asks for another."""
    params = inspect.signature(handler).parameters
    unknown = [
        name
        for name, p in params.items()
        if p.kind is p.KEYWORD_ONLY and p.default is p.empty and name not in dependencies
    ]
    if unknown:
        raise TypeError(
            f"{getattr(handler, '__qualname__', handler)} asks for {', '.join(unknown)};"
            f" a handler may ask for {', '.join(dependencies) or 'nothing'}"
        )
    given = {name: dep for name, dep in dependencies.items() if name in params}
    return partial(handler, **given) if given else handler


def wire(*consumers: ConsumerSpec) -> Callable[[Runtime[Any, Any]], tuple[Subscription, ...]]:
    """What ``ServiceDefinition.subscriptions`` takes: the consumers, handlers bound."""

    def subscriptions(runtime: Runtime[Any, Any]) -> tuple[Subscription, ...]:
        dependencies = {"settings": runtime.settings}
        return tuple(
            Subscription(
                stream=spec.stream.name,
                durable=spec.durable,
                handlers={
                    event: bind(handler, dependencies) for event, handler in spec.handlers.items()
                },
                partition=spec.partition,
            )
            for spec in consumers
        )

    return subscriptions
