from guificloud.db.migrations import run_env
from guificloud_imagestore.models import metadata

run_env(metadata)
