from guificloud.db.migrations import run_env
from guificloud_provisioner.schema import metadata

run_env(metadata)
