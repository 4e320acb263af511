"""Getting an image the box may run: signature first, then the cached or downloaded blob.

Shared by the platform and the slivers, so that the same rules apply to both and one image
is downloaded once however many of them use it.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from guificloud.boxes import DistroSpec
from guificloud_agent.cache import BlobCache
from guificloud_agent.download import fetch_image
from guificloud_agent.options import AgentOptions
from guificloud_agent.signature import KeyNames, check_signature


class Images:
    def __init__(self, cache: BlobCache, http: httpx.AsyncClient, options: AgentOptions) -> None:
        self.cache = cache
        self.http = http
        self.options = options

    def check(
        self,
        spec: DistroSpec,
        trusted: dict[str, str],
        key_names: KeyNames | None = None,
    ) -> None:
        """Raise :class:`DeployFailed` unless the image's signature lets it run here."""
        check_signature(spec, trusted, required=self.options.require_signature, key_names=key_names)

    async def blob(self, spec: DistroSpec) -> Path:
        """The verified blob, downloaded only if the cache lacks it; raises
        :class:`DeployFailed`."""
        async with self.cache.lock(spec.digest):
            return await self.cache.verified(spec.digest) or await fetch_image(
                self.http,
                spec,
                self.cache,
                rate_limit_bps=self.options.download_rate_limit_bps,
                attempts=self.options.download_attempts,
            )
