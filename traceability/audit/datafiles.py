"""Reading the audit's data files: a file that is not what its schema says fails at start,
naming the file and the key (``DataFileError``)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from traceability.config import ConfigurationError

M = TypeVar("M", bound=BaseModel)


class DataFileError(ConfigurationError):
    """A data file (rules, plant operations, unit weights) that cannot be used as it is."""


def load_toml(path: Path, model: type[M]) -> M:
    """``path`` parsed as TOML and validated as ``model``; else ``DataFileError`` saying
    which file, which key and what is wrong with it."""
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except OSError as exc:
        raise DataFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise DataFileError(f"{path}: not valid TOML: {exc}") from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            for e in exc.errors()[:5]
        ]
        raise DataFileError(f"{path}: {'; '.join(problems)}") from None
