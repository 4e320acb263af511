from guificloud.db.migrations import run_env
from guificloud_provisioner.models import metadata
from guificloud_provisioner.slices import models as _slice_models  # noqa: F401 - its tables share the metadata

run_env(metadata)
