"""Every service's migrations form one line: branches merged in parallel must be re-chained
(two revisions on one parent leave Alembic with two heads, and ``upgrade head`` refuses)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from guificloud.db.migrations import alembic_config

pytestmark = pytest.mark.unit

SERVICES = sorted(
    path.parent.name
    for path in (Path(__file__).resolve().parents[2] / "services").glob("*/guificloud_*/migrations")
)


@pytest.mark.parametrize("package", SERVICES)
def test_one_head_and_numbered_in_order(package: str) -> None:
    scripts = ScriptDirectory.from_config(alembic_config(f"{package}:migrations", "unused"))
    assert len(scripts.get_heads()) == 1, f"{package} has heads {scripts.get_heads()}"
    chain = [rev.revision for rev in scripts.walk_revisions()][::-1]
    assert chain == [f"{n:04d}" for n in range(1, len(chain) + 1)]
