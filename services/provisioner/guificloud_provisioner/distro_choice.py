"""Choosing the Guifi-Community-Distro a box must run, and giving it to the box."""

from __future__ import annotations

from sqlalchemy import select

from guificloud.boxes import DistroSpec
from guificloud.db.uow import UnitOfWork
from guificloud.events.provisioner import BoxSync
from guificloud_provisioner import configured
from guificloud_provisioner.models import Box, DistroImage, TrustedKey
from guificloud_provisioner.settings import ProvisionerSettings


async def current_distro(
    uow: UnitOfWork, settings: ProvisionerSettings, arch: str, *, version: str | None = None
) -> DistroImage | None:
    """The newest published distro of the configured channel for ``arch``, or of arch
    ``all`` when there is none for ``arch``: an image built for the box's arch always wins
    over one that claims to fit every arch, however new. ``version`` picks that version."""
    stmt = select(DistroImage).where(
        DistroImage.name == settings.distro_name,
        DistroImage.channel == settings.distro_channel,
        DistroImage.arch.in_((arch, "all")),
        DistroImage.deprecated.is_(False),
    )
    if version is not None:
        stmt = stmt.where(DistroImage.version == version)
    stmt = stmt.order_by((DistroImage.arch == arch).desc(), DistroImage.published_at.desc())
    return (await uow.session.scalars(stmt.limit(1))).first()


def spec_of(image: DistroImage, settings: ProvisionerSettings) -> DistroSpec:
    url = image.url if "://" in image.url else settings.imagestore_url.rstrip("/") + image.url
    return DistroSpec(
        name=image.name,
        version=image.version,
        digest=image.digest,
        size=image.size,
        url=url,
        arch=image.arch,
        signature=image.signature,
        key_id=image.key_id,
    )


def assign(uow: UnitOfWork, box: Box, spec: DistroSpec) -> bool:
    """Make ``spec`` the box's desired distro; bumps the generation and nudges the agent.

    False when the box already has it as desired and is not failed (a failed box is given
    the same image again only through a new publication, which bumps the generation)."""
    current = box.desired_distro or {}
    if current.get("digest") == spec.digest and box.state != "failed":
        return False
    box.desired_distro = spec.model_dump()
    box.generation += 1
    uow.emit(BoxSync(box_id=box.id, generation=box.generation))
    if box.state == "configured":
        configured.enter(uow, box, None)  # no longer waiting for a distro
    return True


async def key_names(uow: UnitOfWork) -> dict[str, list[str]]:
    """The image names each trusted key may sign, for the keys whose names are known."""
    rows = await uow.session.scalars(
        select(TrustedKey).where(TrustedKey.revoked.is_(False), TrustedKey.names.is_not(None))
    )
    return {key.key_id: list(key.names or ()) for key in rows}


async def trusted_keys(uow: UnitOfWork) -> dict[str, str]:
    """The publisher keys boxes must check signatures against (revoked ones left out)."""
    rows = await uow.session.scalars(select(TrustedKey).where(TrustedKey.revoked.is_(False)))
    return {key.key_id: key.public_key for key in rows}
