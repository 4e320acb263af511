"""``/api/v1/deadletters``: a service's own dead letters, for operators to see and replay.

Every service mounts it (``create_base_app``) and answers for its own durables only. Lists
are oldest first, in pages: follow the ``Link: <...>; rel="next"`` header. Operators only:
the admin token as a bearer token (a later change puts real identity here).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict

from guificloud.bus.deadletters import DeadLetter, DeadLetters
from guificloud.http import AdminDep, RuntimeDep

router = APIRouter(prefix="/api/v1/deadletters", tags=["dead letters"], dependencies=[AdminDep])

MAX_REPLAY = 1000
Seq = Annotated[int, Path(ge=1, le=2**63 - 1, description="The dead letter's sequence.")]


class DeadLetterOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    seq: int
    durable: str
    subject: str
    stream: str
    stream_seq: int | None
    reason: str
    dead_lettered_at: datetime | None
    event_id: UUID | None
    event_type: str | None

    @classmethod
    def of(cls, letter: DeadLetter) -> DeadLetterOut:
        envelope: dict[str, Any] = letter.envelope or {}
        event_id = envelope.get("id")
        try:
            parsed_id = UUID(str(event_id)) if event_id is not None else None
        except ValueError:
            parsed_id = None
        event_type = envelope.get("type")
        return cls(
            seq=letter.seq,
            durable=letter.durable,
            subject=letter.subject,
            stream=letter.stream,
            stream_seq=letter.stream_seq,
            reason=letter.reason,
            dead_lettered_at=letter.dead_lettered_at,
            event_id=parsed_id,
            event_type=event_type if isinstance(event_type, str) else None,
        )


class DeadLetterDetail(DeadLetterOut):
    payload: str
    """The message as it was received (UTF-8, undecodable bytes replaced)."""


class Replayed(BaseModel):
    model_config = ConfigDict(frozen=True)

    replayed: list[int]
    """Sequences of the dead letters published again (and removed)."""


def dead_letters(runtime: RuntimeDep) -> DeadLetters:
    return DeadLetters(runtime.bus.js, runtime.definition.name)


DeadLettersDep = Annotated[DeadLetters, Depends(dead_letters)]
Durable = Query(None, description="Only this durable consumer's.", max_length=128)
Subject = Query(
    None, description="Only these original subjects (NATS wildcards allowed).", max_length=255
)


@router.get("", response_model=list[DeadLetterOut])
async def list_dead_letters(
    request: Request,
    response: Response,
    store: DeadLettersDep,
    durable: str | None = Durable,
    subject: str | None = Subject,
    after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    limit: int = Query(50, ge=1, le=500),
) -> list[DeadLetterOut]:
    found = await store.list(after=after, limit=limit, durable=durable, subject=subject)
    if len(found) == limit:
        next_url = request.url.include_query_params(after=found[-1].seq)
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return [DeadLetterOut.of(letter) for letter in found]


@router.get("/{seq:int}", response_model=DeadLetterDetail)
async def show_dead_letter(seq: Seq, store: DeadLettersDep) -> DeadLetterDetail:
    letter = await store.get(seq)
    return DeadLetterDetail(
        **DeadLetterOut.of(letter).model_dump(), payload=letter.data.decode(errors="replace")
    )


@router.post("/replay", response_model=Replayed)
async def replay_dead_letters(
    store: DeadLettersDep, durable: str | None = Durable, subject: str | None = Subject
) -> Replayed:
    """Replay every dead letter (of ``durable``, on ``subject``), oldest first, up to 1000
    per call."""
    found = await store.list(limit=MAX_REPLAY, durable=durable, subject=subject)
    for letter in found:
        await store.replay(letter.seq)
    return Replayed(replayed=[letter.seq for letter in found])


@router.post("/{seq:int}/replay", response_model=Replayed)
async def replay_dead_letter(seq: Seq, store: DeadLettersDep) -> Replayed:
    """Publish it again on its original subject (handled at most once: the inbox of each
    consumer skips an event it has handled) and remove it."""
    await store.replay(seq)
    return Replayed(replayed=[seq])


@router.delete("/{seq:int}", status_code=204, response_class=Response)
async def discard_dead_letter(seq: Seq, store: DeadLettersDep) -> Response:
    await store.discard(seq)
    return Response(status_code=204)
