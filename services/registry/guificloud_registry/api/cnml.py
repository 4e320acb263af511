"""``POST /api/v1/cnml`` (import) and ``GET /api/v1/zones/{id}/cnml`` (export)."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.requests import ClientDisconnect

from guificloud.auth import OptionalPrincipalDep
from guificloud.errors import InvalidInput, TooLarge, UnsupportedMedia
from guificloud.http import UowDep
from guificloud.idempotency import StreamedIdempotencyDep
from guificloud.logging import get_logger
from guificloud.request_guard import allow_large_body
from guificloud_registry import commands
from guificloud_registry.api.callers import WriterDep
from guificloud_registry.cnml import export
from guificloud_registry.cnml.importer import import_document
from guificloud_registry.cnml.parse import CnmlParser
from guificloud_registry.cnml.reach import Reach
from guificloud_registry.cnml.records import Level
from guificloud_registry.contacts import contact_shown
from guificloud_registry.runtime import RegistryRuntimeDep

router = APIRouter(prefix="/api/v1", tags=["cnml"])
log = get_logger(__name__)

UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The CNML file, at most GUIFICLOUD_REGISTRY_CNML_MAX_BYTES (256 MiB)",
        "content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post("/cnml", openapi_extra=UPLOAD_BODY)
async def import_cnml(
    request: Request,
    by: WriterDep,
    runtime: RegistryRuntimeDep,
    once: StreamedIdempotencyDep,
    dry_run: Annotated[bool, Query(description="Report what would change; change nothing")] = False,
) -> Response:
    """Import a CNML export of guifi.net (level ``zones``, ``nodes`` or ``detail``), sent as
    the raw body. The body is parsed as it streams in and may be at most
    ``GUIFICLOUD_REGISTRY_CNML_MAX_BYTES`` (default 256 MiB, enough for guifi.net's
    whole-world detail export; 413 beyond), not the 1 MiB of JSON bodies. The import is one
    transaction, so a malformed file (422 with its line and reason) changes nothing.
    Importing the same file again changes and publishes nothing.

    For operators, and for maintainers of the zones it touches: every stored record it names
    must lie in a zone they maintain (or under one), and its top zone must land in one
    (403 naming the first that does not; nothing is imported). A dry run is checked alike."""
    if request.headers.get("content-type", "").startswith("multipart/"):
        raise UnsupportedMedia(
            "send the CNML file as the body (application/xml), not as a form", field="body"
        )
    settings = runtime.settings
    allow_large_body(request)  # bounded here by cnml_max_bytes instead of 1 MiB
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.cnml_max_bytes:
        raise TooLarge(f"CNML larger than {settings.cnml_max_bytes} bytes", field="body")
    parser = CnmlParser()
    received = 0
    body = hashlib.sha256()
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > settings.cnml_max_bytes:
                raise TooLarge(f"CNML larger than {settings.cnml_max_bytes} bytes", field="body")
            parser.feed(chunk)
            body.update(chunk)
    except ClientDisconnect as exc:
        raise InvalidInput("the upload was interrupted", field="body") from exc
    document = parser.close()
    async with runtime.uow() as uow:

        async def make() -> Response:
            reach = None if by.is_operator else await Reach.before(uow, by, document)
            result = await import_document(uow, document)
            if reach is not None:
                await reach.after(uow.session, result.root_zone_ids)
            if dry_run:
                await uow.rollback()
                result.events = 0
            return JSONResponse(jsonable_encoder({**result.as_dict(), "dry_run": dry_run}))

        response = await make() if dry_run else await once.covering(body.hexdigest()).run(uow, make)
    log.info("cnml.received", bytes=received, level=document.level, dry_run=dry_run)
    return response


@router.get(
    "/zones/{zone_id}/cnml",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/xml": {}}}},
)
async def export_cnml(
    zone_id: UUID,
    request: Request,
    uow: UowDep,
    caller: OptionalPrincipalDep,
    level: Annotated[Level, Query(description="zones, nodes or detail")] = "detail",
) -> StreamingResponse:
    """The zone and its subtree as CNML, which the importer reads back to the same records.
    Nodes' contact data (``owner``) is written only for callers who may see it."""
    zone = await commands.get_zone(uow, zone_id)
    snapshot = await export.load(uow.session, zone, level)
    nodes = [node for listed in snapshot.nodes.values() for node in listed]
    snapshot.shows_contact = await contact_shown(uow.session, caller, nodes)
    name = f"guificloud_{zone.external_id or zone.id}_{level}.cnml"
    return StreamingResponse(
        export.write(snapshot, level, server_url=str(request.base_url).rstrip("/")),
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Vary": "Authorization"},
    )
