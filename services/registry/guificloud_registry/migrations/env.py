from guificloud.db.migrations import run_env
from guificloud_registry.models import metadata

run_env(metadata)
