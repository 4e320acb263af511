"""Field types several records share."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from guificloud.inputs import Int64, Number


def clean_name(value: str) -> str:
    """The one rule for names, sent to the API or read from CNML: stripped, never blank."""
    name = value.strip()
    if not name:
        raise ValueError("must not be empty or only blanks")
    return name


Name = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(clean_name)
]
Nick = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^\S+$")]
Latitude = Annotated[Number, Field(ge=-90, le=90, description="Degrees, kept to six decimals")]
Longitude = Annotated[Number, Field(ge=-180, le=180, description="Degrees, kept to six decimals")]
ExternalId = Annotated[Int64, Field(ge=1, description="The record's id on guifi.net")]
Description = Annotated[
    str, Field(max_length=100_000, description="Free text; imported ones are guifi.net's HTML")
]
