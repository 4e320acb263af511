"""How every command prints records: a table on a terminal; tab-separated rows when stdout is
a pipe or a file (a table there is laid out for rich's assumed 80 columns, folding values
into narrow columns); the records themselves as JSON on request.

List commands take ``--output table|json|tsv``; the others print the same way with the
default. Tab-separated output is one line per record, a header line first, every value
whole; its title (``nodes (3)``) goes to stderr, so that stdout holds only the rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text


class Output(StrEnum):
    table = "table"
    json = "json"
    tsv = "tsv"


OutputOption = typer.Option(
    None,
    "--output",
    case_sensitive=False,
    help="table, json or tsv (default: a table on a terminal, tsv when piped).",
)

Row = Callable[[Mapping[str, Any]], Sequence[Any]]


def _plain(value: Any) -> str:
    """A cell as text on one line (tabs and line ends made spaces)."""
    if value is None:
        return ""
    text = value.plain if isinstance(value, Text) else str(value)
    return " ".join(text.replace("\t", " ").splitlines())


def _cell(value: Any) -> Text:
    """A cell for a table: styled text as it is, anything else as plain text (a name
    holding ``[...]`` is not markup)."""
    if isinstance(value, Text):
        return value
    return Text("" if value is None else str(value))


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
    """A rich table; ``id`` columns are never wrapped (ids are copied whole)."""
    shown = Table(title=title, title_justify="left")
    for column in columns:
        shown.add_column(column, overflow="fold", no_wrap=column == "id")
    for row in rows:
        shown.add_row(*(_cell(v) for v in row))
    return shown


def show(
    records: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    row: Row,
    *,
    title: str,
    output: Output | None = None,
) -> None:
    """Print ``records``, each as ``row(record)`` under ``columns`` (JSON: as they are)."""
    out = Console(soft_wrap=False)
    if output is None:
        output = Output.table if out.is_terminal else Output.tsv
    if output is Output.json:
        typer.echo(json.dumps(list(records), indent=2))
    elif output is Output.table:
        out.print(table(title, columns, [row(r) for r in records]))
    else:
        Console(stderr=True, soft_wrap=True).print(title, highlight=False)
        typer.echo("\t".join(columns))
        for record in records:
            typer.echo("\t".join(_plain(v) for v in row(record)))
