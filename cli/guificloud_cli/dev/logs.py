"""Merging the logs of many processes into one readable stream on the terminal."""

from __future__ import annotations

import json
from datetime import datetime

from rich.console import Console
from rich.text import Text

COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "bright_red", "bright_cyan")
LEVEL_STYLES = {"warning": "yellow", "error": "bold red", "critical": "bold red", "debug": "dim"}
HIDDEN = {"event", "level", "timestamp", "service"}


class LogView:
    def __init__(self, console: Console, names: list[str]) -> None:
        self.console = console
        self.width = max(len(n) for n in names) if names else 10
        self.colours = {name: COLOURS[i % len(COLOURS)] for i, name in enumerate(names)}

    def colour(self, name: str) -> str:
        return self.colours.setdefault(name, COLOURS[len(self.colours) % len(COLOURS)])

    def line(self, name: str, raw: str) -> None:
        """Print one line of ``name``'s output; structured (JSON) lines are rendered as fields."""
        text = Text()
        text.append(f"{name:<{self.width}} | ", style=self.colour(name))
        try:
            record = json.loads(raw)
            if not isinstance(record, dict) or "event" not in record:
                raise ValueError
        except ValueError:
            text.append(raw)
            self.console.print(text, soft_wrap=True, highlight=False)
            return
        stamp = record.get("timestamp", "")
        try:
            stamp = datetime.fromisoformat(stamp).strftime("%H:%M:%S")
        except ValueError:
            pass
        level = str(record.get("level", "info"))
        text.append(f"{stamp} ", style="dim")
        text.append(f"{level:<7} ", style=LEVEL_STYLES.get(level, "green"))
        text.append(str(record["event"]), style="bold")
        for key, value in record.items():
            if key not in HIDDEN:
                text.append(f" {key}=", style="dim")
                text.append(str(value))
        self.console.print(text, soft_wrap=True, highlight=False)

    def say(self, message: str, *, style: str = "bold") -> None:
        text = Text()
        text.append(f"{'dev':<{self.width}} | ", style="white")
        text.append(message, style=style)
        self.console.print(text, soft_wrap=True, highlight=False)
