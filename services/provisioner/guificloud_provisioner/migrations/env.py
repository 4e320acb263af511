from guificloud.db.migrations import run_env
from guificloud_provisioner.models import metadata

run_env(metadata)
