"""Who calls the registry's routes: reads are public (``OptionalPrincipalDep`` where contact
data may be shown); every change needs a known caller whose token may write here."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from guificloud.auth import Principal, require_scope
from guificloud_registry.access import WRITE

WriterDep = Annotated[Principal, Depends(require_scope(WRITE))]
"""401 without (valid) credentials, 403 for a token without the ``registry.write`` scope;
what the caller may change is then the commands' to check (``guificloud_registry.access``)."""
