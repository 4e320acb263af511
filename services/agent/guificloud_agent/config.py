"""Reading a ``BoxConfig`` from the JSON file the provisioner generated, and/or flags."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from guificloud.boxes import BoxConfig


class ConfigError(ValueError):
    """The configuration is unusable; the message names the file or field."""


def load_config(path: Path | None = None, **overrides: Any) -> BoxConfig:
    """Values given as flags (not ``None``) win over the file's."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = json.loads(path.read_text())
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
        except ValueError as exc:
            raise ConfigError(f"{path} is not JSON: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path} must hold a JSON object")
        data.update(loaded)
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return BoxConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid box configuration: {problems}") from exc
