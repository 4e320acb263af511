"""Image signatures: ed25519 over a canonical statement of what an image is.

A publisher signs ``guificloud-image-v1\\n<name>\\n<version>\\n<arch>\\n<digest>``, so a
signature cannot be moved to another image or version with the same bytes. Keys travel as
base64 of their 32 raw bytes; a key's id is the first 16 hex digits of the sha256 of those
bytes. The image store keeps the trusted publisher keys, box configuration carries them, and
the agent refuses an image whose signature does not verify against one of them.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

STATEMENT_VERSION = "guificloud-image-v1"


class SignatureError(ValueError):
    """The signature is missing, malformed, by an untrusted key, or does not verify."""


def statement(name: str, version: str, arch: str, digest: str) -> bytes:
    return "\n".join((STATEMENT_VERSION, name, version, arch, digest)).encode()


def key_id(public_key_b64: str) -> str:
    return hashlib.sha256(base64.b64decode(public_key_b64)).hexdigest()[:16]


def generate_key() -> tuple[str, str]:
    """A new key pair as (private, public), both base64 of the raw 32 bytes."""
    private = Ed25519PrivateKey.generate()
    raw_private = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    raw_public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return base64.b64encode(raw_private).decode(), base64.b64encode(raw_public).decode()


def public_of(private_key_b64: str) -> str:
    private = Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_key_b64))
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return base64.b64encode(raw).decode()


def sign(private_key_b64: str, name: str, version: str, arch: str, digest: str) -> str:
    private = Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_key_b64))
    return base64.b64encode(private.sign(statement(name, version, arch, digest))).decode()


def verify(
    trusted: dict[str, str],
    signature_b64: str | None,
    signer_key_id: str | None,
    name: str,
    version: str,
    arch: str,
    digest: str,
) -> None:
    """Raise :class:`SignatureError` with the reason unless the signature verifies.

    ``trusted`` maps key ids to base64 public keys."""
    if not signature_b64 or not signer_key_id:
        raise SignatureError(f"image {name} {version} is not signed")
    public = trusted.get(signer_key_id)
    if public is None:
        raise SignatureError(f"image {name} {version} is signed by untrusted key {signer_key_id}")
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public))
        key.verify(base64.b64decode(signature_b64), statement(name, version, arch, digest))
    except (InvalidSignature, ValueError) as exc:
        raise SignatureError(
            f"signature of image {name} {version} ({digest}) does not verify "
            f"with key {signer_key_id}"
        ) from exc
