"""What migrations compare against is the whole schema: every table any provisioner module
defines is on the metadata that ``guificloud_provisioner.schema`` gives."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

TABLES_SEEN = """
import importlib, json, pkgutil, sys
import guificloud_provisioner
from guificloud_provisioner.models import group_facts, idempotency
from guificloud_provisioner.schema import MODELS, messaging, metadata
# libs' tables, on the same metadata
shared = [messaging.inbox, messaging.outbox, idempotency, group_facts.table]
named = sorted(t.key for t in [*(m.__table__ for m in MODELS), *shared])
alone = sorted(metadata.tables)
for mod in pkgutil.walk_packages(guificloud_provisioner.__path__, "guificloud_provisioner."):
    if ".migrations" not in mod.name and mod.name != "guificloud_provisioner.__main__":
        importlib.import_module(mod.name)
json.dump({"named": named, "alone": alone, "all": sorted(metadata.tables)}, sys.stdout)
"""


def test_the_schema_module_brings_every_table_of_the_service() -> None:
    # A fresh interpreter: in this one, other tests may have imported every module already.
    out = subprocess.run(
        [sys.executable, "-c", TABLES_SEEN], capture_output=True, text=True, check=True
    )
    seen = json.loads(out.stdout)
    assert seen["alone"] == seen["all"], "a module of tables is missing from schema.py"
    assert seen["named"] == seen["all"], "MODELS does not name every mapped class"
