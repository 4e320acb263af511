"""Which image a sliver runs: a slice names an image (name and version, or a digest) and
each sliver gets the build of it for its box's arch (or the ``all`` build)."""

from __future__ import annotations

from sqlalchemy import select

from guificloud.boxes import DistroSpec
from guificloud.db.uow import UnitOfWork
from guificloud.errors import InvalidInput
from guificloud_provisioner import distro_choice
from guificloud_provisioner.models import DistroImage
from guificloud_provisioner.settings import ProvisionerSettings


async def by_digest(uow: UnitOfWork, digest: str, field: str) -> DistroImage:
    image = (
        await uow.session.scalars(select(DistroImage).where(DistroImage.digest == digest).limit(1))
    ).first()
    if image is None:
        raise InvalidInput(f"no published image has digest {digest}", field=field)
    return image


async def newest(
    uow: UnitOfWork, name: str, version: str | None, arch: str | None
) -> DistroImage | None:
    """The newest non-deprecated image of ``name`` (and ``version``) for ``arch`` (any arch
    when None)."""
    stmt = select(DistroImage).where(DistroImage.name == name, DistroImage.deprecated.is_(False))
    if version is not None:
        stmt = stmt.where(DistroImage.version == version)
    if arch is not None:
        stmt = stmt.where(DistroImage.arch.in_((arch, "all")))
    stmt = stmt.order_by(DistroImage.published_at.desc()).limit(1)
    return (await uow.session.scalars(stmt)).first()


async def arches(uow: UnitOfWork, name: str, version: str) -> set[str] | None:
    """The arches ``name`` ``version`` is built for; None when one build fits every arch."""
    found = set(
        await uow.session.scalars(
            select(DistroImage.arch).where(
                DistroImage.name == name,
                DistroImage.version == version,
                DistroImage.deprecated.is_(False),
            )
        )
    )
    return None if "all" in found else found


async def for_box(
    uow: UnitOfWork,
    settings: ProvisionerSettings,
    *,
    name: str,
    version: str,
    digest: str | None,
    arch: str,
) -> DistroSpec | None:
    """The build a box of ``arch`` runs: the pinned digest if it fits the arch, else the
    newest build of that name and version."""
    if digest is not None:
        image = (
            await uow.session.scalars(
                select(DistroImage).where(DistroImage.digest == digest).limit(1)
            )
        ).first()
        if image is not None and image.arch in (arch, "all"):
            return distro_choice.spec_of(image, settings)
        return None
    image = await newest(uow, name, version, arch)
    return distro_choice.spec_of(image, settings) if image is not None else None
