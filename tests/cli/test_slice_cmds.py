"""The slice commands' own logic: image references, when a slice has settled, and refusals
made before any request is sent."""

from __future__ import annotations

from uuid import uuid4

import pytest
import typer
from typer.testing import CliRunner

from guificloud_cli.slice_cmds import parse_image, settled, slice_app

pytestmark = pytest.mark.unit


def _sliver(effective: str, state: str) -> dict[str, str]:
    return {"effective_set_state": effective, "state": state}


def test_image_references() -> None:
    digest = "sha256:" + "ab" * 32
    assert parse_image(digest) == {"digest": digest}
    assert parse_image("guifi-community-distro") == {"name": "guifi-community-distro"}
    assert parse_image("lab:1.2.0") == {"name": "lab", "version": "1.2.0"}
    with pytest.raises(typer.BadParameter):
        parse_image(":1.0")


def test_a_slice_settles_when_every_sliver_reached_its_state_or_failed() -> None:
    assert settled([])
    assert settled([_sliver("start", "started"), _sliver("deploy", "deployed")])
    assert settled([_sliver("start", "fail_start"), _sliver("register", "registered")])
    assert not settled([_sliver("start", "started"), _sliver("start", "deployed")])
    assert not settled([_sliver("deploy", "offline")])
    assert not settled([_sliver("deploy", "started")]), "a stop not yet done"


def test_placement_must_be_a_count_or_boxes_before_anything_is_sent() -> None:
    runner = CliRunner()
    base = ["create", "lab", "--image", "x", "--group", str(uuid4())]
    # An unreachable URL: had a request been sent, the failure would be exit 1, not 2.
    url = ["--provisioner-url", "http://127.0.0.1:9"]
    neither = runner.invoke(slice_app, [*base, *url])
    both = runner.invoke(slice_app, [*base, "--count", "2", "--box", "b1", *url])
    assert neither.exit_code == both.exit_code == 2
    assert "--count" in neither.output and "--count" in both.output
    bad_state = runner.invoke(slice_app, ["sliver", "set", "s1", "--state", "run", *url])
    assert bad_state.exit_code == 2 and "--state" in bad_state.output
    unreachable = runner.invoke(slice_app, [*base, "--count", "2", *url])
    assert unreachable.exit_code == 1
    assert "provisioner unreachable" in unreachable.output
