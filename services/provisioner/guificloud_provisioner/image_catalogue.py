"""What the provisioner learns from the image store: distro images and publisher keys.

A new current distro goes to the boxes of its arch that have none yet (new boxes); boxes that
run one move only when an operator assigns it (``distro_rollout``), so a bad publication does
not reach the whole fleet at once. A deprecated one is no longer chosen; a change of trusted
keys reaches every box with its desired state (a failed box retries).
"""

from __future__ import annotations

from sqlalchemy import delete, select

from guificloud.db.uow import UnitOfWork
from guificloud.events.imagestore import (
    ImageDeleted,
    ImageDeprecated,
    ImagePublished,
    PublisherKeyAdded,
    PublisherKeyRevoked,
)
from guificloud.events.provisioner import BoxSync
from guificloud_provisioner import distro_choice
from guificloud_provisioner.models import Box, DistroImage, TrustedKey
from guificloud_provisioner.settings import ProvisionerSettings


async def handle_image_published(
    event: ImagePublished, uow: UnitOfWork, *, settings: ProvisionerSettings
) -> None:
    if await uow.session.get(DistroImage, event.image_id) is None:
        uow.session.add(
            DistroImage(
                image_id=event.image_id,
                name=event.name,
                version=event.version,
                arch=event.arch,
                channel=event.channel,
                format=event.format,
                digest=event.digest,
                size=event.size,
                url=event.url,
                published_at=event.published_at,
                signature=event.signature,
                key_id=event.key_id,
            )
        )
        await uow.session.flush()
    if event.name != settings.distro_name or event.channel != settings.distro_channel:
        return
    stmt = select(Box).where(Box.state.is_not(None), Box.desired_distro.is_(None)).with_for_update()
    if event.arch != "all":
        stmt = stmt.where(Box.arch == event.arch)
    for box in await uow.session.scalars(stmt):
        image = await distro_choice.current_distro(uow, settings, box.arch)
        if image is not None and image.image_id == event.image_id:
            distro_choice.assign(uow, box, distro_choice.spec_of(image, settings))


async def handle_image_deprecated(event: ImageDeprecated, uow: UnitOfWork) -> None:
    """Boxes that run it keep it; new boxes get the newest image still active."""
    image = await uow.session.get(DistroImage, event.image_id)
    if image is not None:
        image.deprecated = True


async def handle_image_deleted(event: ImageDeleted, uow: UnitOfWork) -> None:
    await uow.session.execute(delete(DistroImage).where(DistroImage.image_id == event.image_id))


async def handle_key_added(event: PublisherKeyAdded, uow: UnitOfWork) -> None:
    names = list(event.names) if event.names is not None else None
    key = await uow.session.get(TrustedKey, event.key_id)
    if key is None:
        uow.session.add(
            TrustedKey(
                key_id=event.key_id,
                public_key=event.public_key,
                publisher=event.publisher,
                names=names,
            )
        )
    else:
        key.public_key, key.publisher, key.revoked = event.public_key, event.publisher, False
        key.names = names
    await _keys_changed(uow)


async def handle_key_revoked(event: PublisherKeyRevoked, uow: UnitOfWork) -> None:
    key = await uow.session.get(TrustedKey, event.key_id)
    if key is not None:
        key.revoked = True
    await _keys_changed(uow)


async def _keys_changed(uow: UnitOfWork) -> None:
    """Every box fetches its desired state again; failed ones try their distro again."""
    for box in await uow.session.scalars(select(Box).where(Box.state != "registered")):
        if box.state == "failed":
            box.generation += 1
        uow.emit(BoxSync(box_id=box.id, generation=box.generation))
