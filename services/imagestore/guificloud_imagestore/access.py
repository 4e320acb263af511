"""Who may change what in the image store (the README's "Who may do what" is this module).

Images are published for a group, by its publishers and group admins, within the group's
image quota (:mod:`guificloud_imagestore.quota`); an image without a group belongs to the
deployment (the distro) and only operators publish, deprecate or delete it. Every change
to images, and every upload session route, needs the token scope ``images.publish``.
"""

from __future__ import annotations

from uuid import UUID

from guificloud.auth.principal import Principal, Role
from guificloud.errors import InvalidInput

SCOPE = "images.publish"
PUBLISHING: tuple[Role, ...] = ("publisher", "group_admin")


def ensure_may_publish(principal: Principal, group_id: UUID | None) -> None:
    """Publish (or open an upload session) for ``group_id``; None: for the deployment."""
    principal.ensure_scope(SCOPE)
    if group_id is not None:
        principal.ensure_role(group_id, *PUBLISHING)
    elif not principal.is_operator:
        raise InvalidInput(
            "give group_id, the group the image is published for (one where you are a "
            "publisher); only operators publish images of the deployment, without a group",
            field="group_id",
        )


def ensure_may_manage(principal: Principal, group_id: UUID | None) -> None:
    """Deprecate or delete an image of ``group_id`` (None: the deployment's)."""
    principal.ensure_scope(SCOPE)
    if group_id is None:
        principal.ensure_operator()
    else:
        principal.ensure_role(group_id, *PUBLISHING)


def may_use_session(principal: Principal, opened_by: UUID | None) -> bool:
    """An upload session is its opener's alone (operators may finish or cancel any)."""
    return principal.is_operator or (opened_by is not None and opened_by == principal.id)
