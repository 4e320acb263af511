"""Which image names a publisher key may sign.

A trusted key is bound to names: exact ones or shell-style patterns (``guifi-*``, ``*``). A
reserved name, the community distro's, is signed only by a key an operator bound to it by
that exact name, never through a pattern: whoever signs it changes every box. The store
checks this on upload and the agent again before it runs an image.
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase

DISTRO_NAME = "guifi-community-distro"
RESERVED_NAMES = frozenset({DISTRO_NAME})
KEY_NAME_PATTERN = r"^[a-z0-9*?][a-z0-9._*?-]{0,127}$"


def may_sign(names: Iterable[str], image_name: str) -> bool:
    names = tuple(names)
    if image_name in RESERVED_NAMES:
        return image_name in names
    return any(fnmatchcase(image_name, pattern) for pattern in names)
