"""Whether the box may run an image: its publisher's signature, checked before the download.

The signature covers the image's digest (see ``guificloud.signing``), and the download is
checked against that digest, so checking the signature first refuses a bad image without
spending a weak link on it. A signature is required once the box knows trusted keys (from its
desired state, or else from its configuration) or when the operator asks for it; an unsigned
image on a box with no trusted keys (a development setup) is accepted with a warning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from guificloud.boxes import DistroSpec
from guificloud.key_names import may_sign
from guificloud.logging import get_logger
from guificloud.signing import SignatureError, verify
from guificloud_agent.failures import DeployFailed

log = get_logger(__name__)

ANY_ARCH = "all"

KeyNames = Mapping[str, Sequence[str]]
"""Publisher key id -> the image names (or patterns) it may sign."""


def check_signature(
    spec: DistroSpec,
    trusted: dict[str, str],
    *,
    required: bool,
    key_names: KeyNames | None = None,
) -> None:
    """Raise :class:`DeployFailed` with the reason unless ``spec`` may run on this box.

    ``key_names`` (from the desired state) binds keys to the image names they may sign; a
    key it does not list came from a provisioner that did not know, and is not held to it."""
    if not trusted and not required:
        log.warning(
            "image.signature_unchecked",
            name=spec.name,
            version=spec.version,
            key_id=spec.key_id,
            reason="no trusted keys configured",
        )
        return
    try:
        verify(
            trusted,
            spec.signature,
            spec.key_id,
            spec.name,
            spec.version,
            spec.arch or ANY_ARCH,
            spec.digest,
        )
    except SignatureError as exc:
        raise DeployFailed(str(exc)) from exc
    names = (key_names or {}).get(spec.key_id or "")
    if names is not None and not may_sign(names, spec.name):
        raise DeployFailed(
            f"key {spec.key_id} is not bound to the image name {spec.name!r} "
            f"(it may sign {', '.join(names) or 'nothing'})"
        )
    log.info("image.signature_verified", name=spec.name, version=spec.version, key_id=spec.key_id)
