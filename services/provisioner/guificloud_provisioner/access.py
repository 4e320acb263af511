"""Who may do what in the provisioner (the matrix of its README, as code).

- A slice belongs to a group (its ``group_id`` never changes). Its ``slice_admin`` and
  ``group_admin`` change it and its slivers; every member of the group reads it. A slice
  made before groups (no ``group_id``) is for operators only.
- A box's configuration (its credentials) is for its node's owners: the owning member, and
  the ``node_admin`` and ``group_admin`` of the owning group. Nobody else but operators.

Operators pass every check; a token limited to scopes must also carry the route's scope.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final
from uuid import UUID

from guificloud.auth import Principal, Role
from guificloud.errors import Forbidden
from guificloud_provisioner.models import Box

SLICE_MANAGERS: Final[tuple[Role, ...]] = ("slice_admin", "group_admin")
BOX_TECHNICIANS: Final[tuple[Role, ...]] = ("node_admin", "group_admin")
SLICES_WRITE: Final = "slices.write"
SLICES_READ: Final = "slices.read"
BOXES_READ: Final = "boxes.read"
BOXES_WRITE: Final = "boxes.write"

REFUSED: Final[dict[int | str, dict[str, Any]]] = {
    403: {"description": "The caller lacks the role, right or scope (the answer names it)"}
}
"""The refusal every route here may answer, for OpenAPI."""

Guard = Callable[[UUID | None], None]
"""A check of the caller against the group a slice belongs to; raises :class:`Forbidden`."""


def _operators_only(principal: Principal) -> None:
    if not principal.is_operator:
        raise Forbidden(
            f"this slice has no group (it was made before groups): operators only; "
            f"{principal.login} is not an operator"
        )


def ensure_manages(principal: Principal, group: UUID | None) -> None:
    """Create, change, renew, reset or delete a slice of ``group``, and its slivers."""
    principal.ensure_scope(SLICES_WRITE)
    if group is None:
        _operators_only(principal)
    else:
        principal.ensure_role(group, *SLICE_MANAGERS)


def ensure_reads(principal: Principal, group: UUID | None) -> None:
    """See a slice of ``group`` and its slivers."""
    principal.ensure_scope(SLICES_READ)
    if group is None:
        _operators_only(principal)
    elif not (principal.is_operator or principal.in_group(group)):
        raise Forbidden(
            f"slices of group {group} are for its members; {principal.login} is not one"
        )


def manager(principal: Principal) -> Guard:
    """:func:`ensure_manages` for the slice a command finds (scope checked at once)."""
    principal.ensure_scope(SLICES_WRITE)
    return lambda group: ensure_manages(principal, group)


def reader(principal: Principal) -> Guard:
    """:func:`ensure_reads` for the slice a read finds (scope checked at once)."""
    principal.ensure_scope(SLICES_READ)
    return lambda group: ensure_reads(principal, group)


def readable_groups(principal: Principal) -> frozenset[UUID] | None:
    """The groups whose slices the caller may list; None: every slice (operators)."""
    principal.ensure_scope(SLICES_READ)
    return None if principal.is_operator else frozenset(principal.groups)


def ensure_box_technician(principal: Principal, box: Box) -> None:
    """See ``box``'s configuration, credentials included."""
    principal.ensure_scope(BOXES_READ)
    if principal.is_operator or principal.id == box.owner_account_id:
        return
    group = box.owner_group_id
    if group is not None and principal.has_role(group, *BOX_TECHNICIANS):
        return
    owners = f"the node_admin or group_admin of group {group}" if group else "no group"
    member = "its owning member" if box.owner_account_id else "no member"
    raise Forbidden(
        f"box {box.id}'s configuration is for operators and its node's owners "
        f"({member}; {owners}); {principal.login} is none of them"
    )


def ensure_operator(principal: Principal, scope: str) -> None:
    principal.ensure_scope(scope)
    principal.ensure_operator()
