"""Input types bounded as their columns, strict as their JSON, exact in the document."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from guificloud.inputs import INT64_MAX, Int64, Int64Param, Number, exact_integer_bounds

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, True, "7", 7.5])
def test_a_json_int64_refuses_what_the_column_or_json_cannot_be(value: Any) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Int64).validate_python(value)


def test_a_json_number_takes_ints_but_not_true() -> None:
    assert TypeAdapter(Number).validate_python(3) == 3.0
    with pytest.raises(ValidationError):
        TypeAdapter(Number).validate_python(True)


def test_a_parameter_comes_as_text_and_is_bounded_all_the_same() -> None:
    assert TypeAdapter(Int64Param).validate_python("7") == 7
    with pytest.raises(ValidationError):
        TypeAdapter(Int64Param).validate_python(str(2**63))


def test_the_document_says_the_exact_int64_bounds() -> None:
    schema = {"anyOf": [{"type": "integer", "maximum": float(INT64_MAX), "minimum": 1.0}]}
    assert exact_integer_bounds(schema) == {
        "anyOf": [{"type": "integer", "maximum": INT64_MAX, "minimum": 1}]
    }
