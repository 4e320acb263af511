"""``guificloud slice …`` against the running system: create, watch it settle, start, stop,
delete; and refusals said clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from guificloud_cli.slice_cmds import slice_app
from tests.e2e.slices_helpers import running_fleet, slivers, wait_gone
from tests.e2e.system import System

pytestmark = pytest.mark.e2e


def _cli(system: System) -> tuple[typer.Typer, CliRunner]:
    """The slice commands mounted as ``guificloud`` mounts them."""
    app = typer.Typer()
    app.add_typer(slice_app, name="slice")
    return app, CliRunner(env={"GUIFICLOUD_PROVISIONER_URL": system.urls["provisioner"]})


def test_a_slice_through_the_command_line(system: System, distro_v1: Path, tmp_path: Path) -> None:
    system.upload_distro(distro_v1, "1.0.0")
    app, runner = _cli(system)
    with running_fleet(system, 2, tmp_path):
        refused = runner.invoke(
            app,
            [
                "slice",
                "create",
                "bad",
                "--image",
                "guifi-community-distro",
                "--group",
                system.group_id,
                "--count",
                "2",
                "--memory",
                "4096",
            ],
        )
        assert refused.exit_code == 1
        assert "memory_mb" in refused.output

        made = runner.invoke(
            app,
            [
                "slice",
                "create",
                "lab",
                "--image",
                "guifi-community-distro:1.0.0",
                "--group",
                system.group_id,
                "--count",
                "2",
                "--memory",
                "128",
                "--disk",
                "50",
            ],
        )
        assert made.exit_code == 0, made.output
        listed = system.http.get(
            system.url("provisioner", "/api/v1/slices"), params={"group_id": system.group_id}
        ).json()
        assert [s["name"] for s in listed] == ["lab"]
        slice_id = listed[0]["id"]
        assert len(slivers(system, slice_id)) == 2

        started = runner.invoke(app, ["slice", "start", slice_id])
        assert started.exit_code == 0, started.output
        watched = runner.invoke(app, ["slice", "show", slice_id, "--watch", "--timeout", "30"])
        assert watched.exit_code == 0, watched.output
        assert "settled: 2 slivers start" in watched.output
        assert [v["state"] for v in slivers(system, slice_id)] == ["started", "started"]

        stopped = runner.invoke(app, ["slice", "stop", slice_id])
        assert stopped.exit_code == 0, stopped.output
        watched = runner.invoke(app, ["slice", "show", slice_id, "--watch", "--timeout", "30"])
        assert watched.exit_code == 0, watched.output
        assert "settled: 2 slivers deploy" in watched.output

        deleted = runner.invoke(app, ["slice", "delete", slice_id])
        assert deleted.exit_code == 0, deleted.output
        wait_gone(system, slice_id)
        missing = runner.invoke(app, ["slice", "show", slice_id])
        assert missing.exit_code == 1 and "404" in missing.output
