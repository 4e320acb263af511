"""The agent holds a signing key to the image names its desired state binds it to."""

from __future__ import annotations

import pytest

from guificloud.boxes import DistroSpec
from guificloud.key_names import DISTRO_NAME
from guificloud.signing import generate_key, key_id, sign
from guificloud_agent.failures import DeployFailed
from guificloud_agent.signature import check_signature

DIGEST = "sha256:" + "ab" * 32


def signed(name: str) -> tuple[DistroSpec, dict[str, str]]:
    private, public = generate_key()
    spec = DistroSpec(
        name=name,
        version="1.0",
        digest=DIGEST,
        size=1,
        url="http://store/api/v1/blobs/x",
        arch="amd64",
        signature=sign(private, name, "1.0", "amd64", DIGEST),
        key_id=key_id(public),
    )
    return spec, {key_id(public): public}


def test_a_key_bound_to_other_names_does_not_sign_the_distro() -> None:
    spec, trusted = signed(DISTRO_NAME)
    kid = next(iter(trusted))
    with pytest.raises(DeployFailed, match="not bound to the image name"):
        check_signature(spec, trusted, required=True, key_names={kid: ["*"]})
    check_signature(spec, trusted, required=True, key_names={kid: [DISTRO_NAME]})


def test_names_are_checked_only_where_known() -> None:
    spec, trusted = signed("lab-busybox")
    kid = next(iter(trusted))
    check_signature(spec, trusted, required=True)  # an older provisioner sends no names
    check_signature(spec, trusted, required=True, key_names={kid: ["lab-*"]})
    with pytest.raises(DeployFailed, match="lab-busybox"):
        check_signature(spec, trusted, required=True, key_names={kid: ["other"]})
