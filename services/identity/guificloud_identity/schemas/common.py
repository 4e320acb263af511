"""Field types several records share."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, SecretStr, Strict

Login = Annotated[
    str,
    AfterValidator(str.lower),
    Field(
        min_length=2,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]+$",
        description="Letters, digits, '.', '_' and '-'; compared without case",
    ),
]
DisplayName = Annotated[str, Field(min_length=1, max_length=200)]
Email = Annotated[
    str, Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", description="Contact")
]
Password = Annotated[
    SecretStr, Field(min_length=10, max_length=1024, description="10 characters or more")
]
Description = Annotated[str, Field(max_length=10_000)]
Flag = Annotated[bool, Strict()]
"""A JSON ``true`` or ``false`` only: pydantic alone would also take ``0``, ``1``, ``"yes"``."""
