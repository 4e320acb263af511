"""Bringing the box to its desired state: no platform, or the platform from one image; and
its slivers (see :mod:`guificloud_agent.slivers`), worked on beside the platform.

An image is deployed only if its signature verifies (when the box has trusted keys or
requires signatures) and its bytes match its digest. Each step that changes the actual
state goes through ``on_status`` (which reports it). A failure leaves the box ``failed``;
the same desired state is tried again only by a periodic resync (quietly: the box stays
``failed`` unless that try succeeds), a new generation is tried at once. A platform that
already runs is not checked again: its image was accepted when it was deployed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from guificloud.boxes import DesiredState, DistroSpec
from guificloud.logging import get_logger
from guificloud_agent.drivers.base import Limits
from guificloud_agent.failures import DeployFailed
from guificloud_agent.images import Images
from guificloud_agent.options import AgentOptions
from guificloud_agent.platform import Platform
from guificloud_agent.slivers import Slivers
from guificloud_agent.status import Status

log = get_logger(__name__)


class Reconciler:
    def __init__(
        self,
        platform: Platform,
        images: Images,
        options: AgentOptions,
        on_status: Callable[[Status], None],
        *,
        slivers: Slivers | None = None,
        configured_keys: dict[str, str] | None = None,
    ) -> None:
        self.platform = platform
        self.configured_keys = configured_keys or {}
        """The box configuration's trusted keys: used when the desired state lists none."""
        self.images = images
        self.cache = images.cache
        self.options = options
        self.on_status = on_status
        self.slivers = slivers
        self.status: Status | None = None
        self._keep: set[str] = set()
        """The digests the desired state uses: never pruned from the cache."""

    def _set(self, status: Status) -> None:
        self.status = status
        self.on_status(status)

    async def apply(self, desired: DesiredState, *, periodic: bool = False) -> None:
        self._keep = {s.image.digest for s in desired.slivers}
        if desired.distro is not None:
            self._keep.add(desired.distro.digest)
        if self.slivers is None:
            await self._apply_platform(desired, periodic=periodic)
            return
        has_platform = desired.distro is not None or self.platform.current is not None
        self.slivers.ledger.platform = self.options.platform_limits if has_platform else Limits()
        trusted = desired.trusted_keys or self.configured_keys
        await asyncio.gather(
            self._apply_platform(desired, periodic=periodic),
            self.slivers.apply(desired, trusted),
        )
        self.slivers.prune_images(self._keep)

    async def _apply_platform(self, desired: DesiredState, *, periodic: bool) -> None:
        generation, spec = desired.generation, desired.distro
        try:
            if spec is None:
                await self.platform.remove()
                self._set(Status("idle", generation))
            elif await self.platform.running_digest() == spec.digest:
                self._set(Status("running", generation, spec.digest))
            else:
                await self._deploy(desired, spec, periodic=periodic)
        except DeployFailed as exc:
            log.warning("deploy.failed", generation=generation, reason=exc.reason)
            self._set(Status("failed", generation, spec.digest if spec else None, exc.reason))
        except Exception as exc:
            log.exception("deploy.crashed", generation=generation)
            self._set(
                Status(
                    "failed",
                    generation,
                    spec.digest if spec else None,
                    f"agent error: {type(exc).__name__}: {exc}",
                )
            )

    async def _deploy(self, desired: DesiredState, spec: DistroSpec, *, periodic: bool) -> None:
        generation = desired.generation
        prior = self.status
        failed_before = (
            prior is not None
            and prior.state == "failed"
            and (prior.generation, prior.distro_digest) == (generation, spec.digest)
        )
        if failed_before and not periodic:
            return
        if not failed_before:
            self._set(Status("deploying", generation, spec.digest))
        try:
            self.images.check(spec, desired.trusted_keys or self.configured_keys, desired.key_names)
        except DeployFailed:
            if all(s.image.digest != spec.digest for s in desired.slivers):
                self.cache.discard(spec.digest)  # unless a sliver trusts it otherwise
            raise
        image = await self.images.blob(spec)
        await self.platform.deploy(spec.digest, image)
        self.cache.prune(keep=self._keep)
        self._set(Status("running", generation, spec.digest))
