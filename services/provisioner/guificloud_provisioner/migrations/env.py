from guificloud.db.migrations import run_env
from guificloud_provisioner import slice_models  # noqa: F401 - its tables share the metadata
from guificloud_provisioner.models import metadata

run_env(metadata)
