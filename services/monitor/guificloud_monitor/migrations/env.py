from guificloud.db.migrations import run_env
from guificloud_monitor.models import metadata

run_env(metadata)
