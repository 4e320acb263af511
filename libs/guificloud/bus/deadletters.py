"""The dead-letter stream: what a consumer could never handle, kept with the reason until an
operator replays or discards it.

A dead letter is the original payload on ``deadletter.<service>.<durable>`` with headers that
say where it came from and why it failed. A replay publishes the payload again on its
original subject with a new ``Nats-Msg-Id`` (``replay:<seq>``; the original id would fall in
JetStream's de-duplication window and be dropped) but the same envelope, hence the same event
id: every durable on that subject sees it again, and one that had handled the event skips it
by its inbox. A replayed dead letter is removed; should it fail again, it comes back as a new
one with its new reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg
from nats.js.errors import NotFoundError as StreamMsgNotFound

from guificloud.bus.connection import MSG_ID
from guificloud.errors import InvalidInput, NotFound
from guificloud.streams import DEADLETTER, deadletter_subject

REASON = "Guificloud-Reason"
ORIGINAL_SUBJECT = "Guificloud-Original-Subject"
ORIGINAL_STREAM = "Guificloud-Original-Stream"
ORIGINAL_SEQUENCE = "Guificloud-Original-Sequence"
CONSUMER = "Guificloud-Consumer"
REPLAYED_FROM = "Guificloud-Replayed-From"

FORBIDDEN_IN_TOKEN = frozenset(" .*>\t\r\n")


@dataclass(frozen=True)
class DeadLetter:
    seq: int
    durable: str
    subject: str
    stream: str
    stream_seq: int | None
    reason: str
    dead_lettered_at: datetime | None
    data: bytes

    @property
    def envelope(self) -> dict[str, Any] | None:
        """The payload as a JSON object, if it is one (a malformed payload is not)."""
        try:
            parsed = json.loads(self.data)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None


def _one_line(text: str, limit: int) -> str:
    return text.replace("\r", " ").replace("\n", " ")[:limit]


def _token(value: str, what: str) -> str:
    if not value or FORBIDDEN_IN_TOKEN & set(value):
        raise InvalidInput(f"{what} {value!r} is not a consumer name", field=what)
    return value


class DeadLetters:
    """One service's dead letters, on the shared ``DEADLETTER`` stream."""

    def __init__(self, js: JetStreamContext, service: str) -> None:
        self._js = js
        self._service = service

    async def put(self, msg: Msg, durable: str, reason: str) -> None:
        """Store ``msg`` with ``reason``; the caller terminates the original afterwards."""
        meta = msg.metadata
        sequence = str(meta.sequence.stream) if meta.sequence else ""
        headers = {
            REASON: _one_line(reason, 2000),
            ORIGINAL_SUBJECT: msg.subject,
            ORIGINAL_STREAM: meta.stream or "",
            ORIGINAL_SEQUENCE: sequence,
            CONSUMER: durable,
            MSG_ID: f"dl:{meta.stream}:{sequence}:{durable}",
        }
        await self._js.publish(
            deadletter_subject(self._service, durable), msg.data, headers=headers
        )

    def _filter(self, durable: str | None) -> str:
        return deadletter_subject(self._service, _token(durable, "durable") if durable else ">")

    def _read(self, raw: RawStreamMsg) -> DeadLetter:
        headers = raw.headers or {}
        sequence = headers.get(ORIGINAL_SEQUENCE, "")
        return DeadLetter(
            seq=int(raw.seq or 0),
            durable=headers.get(CONSUMER, (raw.subject or "").rsplit(".", 1)[-1]),
            subject=headers.get(ORIGINAL_SUBJECT, ""),
            stream=headers.get(ORIGINAL_STREAM, ""),
            stream_seq=int(sequence) if sequence.isdigit() else None,
            reason=headers.get(REASON, ""),
            dead_lettered_at=raw.time,
            data=raw.data or b"",
        )

    async def list(
        self,
        *,
        after: int = 0,
        limit: int = 50,
        durable: str | None = None,
        subject: str | None = None,
    ) -> list[DeadLetter]:
        """Oldest first, from the sequence after ``after``; ``subject`` is the original
        subject, NATS wildcards allowed."""
        wanted = self._filter(durable)
        found: list[DeadLetter] = []
        seq = after + 1
        while len(found) < limit:
            try:
                raw = await self._js.get_msg(DEADLETTER.name, seq=seq, subject=wanted, next=True)
            except StreamMsgNotFound:
                break
            letter = self._read(raw)
            seq = letter.seq + 1
            if subject is None or subject_matches(subject, letter.subject):
                found.append(letter)
        return found

    async def get(self, seq: int) -> DeadLetter:
        try:
            raw = await self._js.get_msg(DEADLETTER.name, seq=seq)
        except StreamMsgNotFound:
            raw = None
        prefix = deadletter_subject(self._service, "")
        if raw is None or not (raw.subject or "").startswith(prefix):
            raise NotFound(f"dead letter {seq} not found")
        return self._read(raw)

    async def replay(self, seq: int) -> DeadLetter:
        """Publish the dead letter again on its original subject, then remove it."""
        letter = await self.get(seq)
        if not letter.subject:
            raise InvalidInput(f"dead letter {seq} does not say its original subject")
        await self._js.publish(
            letter.subject,
            letter.data,
            headers={MSG_ID: f"replay:{DEADLETTER.name}:{seq}", REPLAYED_FROM: str(seq)},
        )
        await self.discard(seq)
        return letter

    async def discard(self, seq: int) -> None:
        await self.get(seq)
        try:
            await self._js.delete_msg(DEADLETTER.name, seq)
        except StreamMsgNotFound:  # removed meanwhile by another request: the same outcome
            pass


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: ``*`` is one token, a final ``>`` one or more."""
    want, have = pattern.split("."), subject.split(".")
    if want[-1] == ">":
        want = want[:-1]
        if len(have) <= len(want):
            return False
        have = have[: len(want)]
    elif len(want) != len(have):
        return False
    return all(w in ("*", h) for w, h in zip(want, have, strict=True))
