from guificloud.db.migrations import run_env
from guificloud_identity.models import metadata

run_env(metadata)
