"""The registry's runtime, typed by its settings (it needs no resources of its own)."""

from typing import Annotated

from fastapi import Depends

from guificloud.http import get_runtime
from guificloud.runtime import Runtime
from guificloud_registry.settings import RegistrySettings

RegistryRuntime = Runtime[RegistrySettings, None]
RegistryRuntimeDep = Annotated[RegistryRuntime, Depends(get_runtime)]
"""The runtime of the request's app, typed for this service's routes."""
