"""The one way commands print records: tab-separated rows when piped, tables, JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rich.text import Text

from guificloud_cli.output import Output, show

pytestmark = pytest.mark.unit

RECORDS = [
    {"id": "f155e482-add4-4ee4-8e7f-be780e37b01b", "name": "[red]not markup[/red]", "n": 1},
    {"id": "0c35689a-f459-4676-8365-898fa98c5d8a", "name": "two\tparts\nand lines", "n": None},
]


def _row(r: Any) -> list[Any]:
    return [r["id"], r["name"], Text(str(r["n"]), style="green") if r["n"] else r["n"]]


def test_piped_rows_are_tab_separated_and_whole(capsys: pytest.CaptureFixture[str]) -> None:
    show(RECORDS, ("id", "name", "n"), _row, title="things (2)")
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "id\tname\tn",
        "f155e482-add4-4ee4-8e7f-be780e37b01b\t[red]not markup[/red]\t1",
        "0c35689a-f459-4676-8365-898fa98c5d8a\ttwo parts and lines\t",
    ]
    assert captured.err.strip() == "things (2)"


def test_json_and_table_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    show(RECORDS, ("id", "name", "n"), _row, title="things", output=Output.json)
    assert json.loads(capsys.readouterr().out) == RECORDS
    show(RECORDS, ("id", "name", "n"), _row, title="things", output=Output.table)
    table = capsys.readouterr().out
    assert "things" in table and "┃ id" in table and "[red]not markup[/red]" in table
