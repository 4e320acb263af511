"""The provisioner's runtime, typed by its settings (it needs no resources of its own)."""

from typing import Annotated

from fastapi import Depends

from guificloud.http import get_runtime
from guificloud.runtime import Runtime
from guificloud_provisioner.settings import ProvisionerSettings

ProvisionerRuntime = Runtime[ProvisionerSettings, None]
ProvisionerRuntimeDep = Annotated[ProvisionerRuntime, Depends(get_runtime)]
"""The runtime of the request's app, typed for this service's routes."""
