"""Schemathesis hooks for the fuzz run (loaded through ``SCHEMATHESIS_HOOKS``)."""

from __future__ import annotations

import schemathesis

# The chunks of a resumable upload (PATCH /api/v1/uploads/{id}) are raw bytes, as tus has them.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
