"""The identity service's runtime: its settings, and the authority (key store and token
issuing) that its routes share, built once at bootstrap."""

from typing import Annotated

from fastapi import Depends

from guificloud.http import get_runtime
from guificloud.runtime import Runtime
from guificloud_identity.authority import Authority
from guificloud_identity.settings import IdentitySettings

IdentityRuntime = Runtime[IdentitySettings, Authority]
IdentityRuntimeDep = Annotated[IdentityRuntime, Depends(get_runtime)]
"""The runtime of the request's app, typed for this service's routes."""
