"""The actions an API token may be limited to, one per service and kind of change.

A tool's token names the few it needs (``images.publish`` for a build pipeline); ``*``
covers all and ``<service>.*`` all of one service. Reads of public data need none.
"""

from __future__ import annotations

SCOPES: dict[str, str] = {
    "*": "everything the account's roles allow",
    "identity.read": "read members, groups and tokens",
    "identity.write": "change members, groups, memberships and tokens",
    "registry.read": "read contact data in the registry",
    "registry.write": "change zones, nodes, devices and services; import CNML",
    "slices.read": "read slices and slivers",
    "slices.write": "create, change, renew, reset and delete slices",
    "boxes.read": "read box configuration (with its credentials)",
    "boxes.write": "move boxes to another distro version (operators)",
    "images.read": "download images",
    "images.publish": "upload and publish images",
    "monitor.read": "read per-member monitoring",
}

WILDCARDS = frozenset({"*"} | {f"{name.split('.')[0]}.*" for name in SCOPES if name != "*"})


def known(scope: str) -> bool:
    return scope in SCOPES or scope in WILDCARDS
