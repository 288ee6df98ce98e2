"""Reading the catalogue's data files: TOML in, a validated schema out, or an error that
names the file and the key at fault (SPEC §2.3: "a malformed file fails at start").

A deployment that edits ``catalog.toml`` and misspells a key must learn which
file and which key before the application serves a request, not from a stack
trace or a rule that silently never matches.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class CatalogDataError(ValueError):
    """A data file that does not load: its path, the key at fault (dotted, ``rules[2]``
    for the third rule) and what is wrong with it."""

    def __init__(self, path: Path, key: str | None, problem: str) -> None:
        self.path = path
        self.key = key
        self.problem = problem
        where = f"{path}: {key}" if key else str(path)
        super().__init__(f"{where}: {problem}")


def key_of(loc: Sequence[int | str]) -> str:
    """``("rules", 2, "required")`` → ``rules[2].required``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def read_toml(path: Path) -> dict[str, Any]:
    """The file's tables, or a ``CatalogDataError`` naming it (missing, unreadable, bad TOML)."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise CatalogDataError(path, None, f"cannot be read ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogDataError(path, None, f"is not valid TOML: {exc}") from None


def validated(model: type[M], data: Any, path: Path) -> M:
    """``data`` (a file's tables) as ``model``; the first error names the file and the key."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        # Inside an "after" validator the location is the table the validator checks.
        loc = [p for p in first["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        message = str(first["msg"]).removeprefix("Value error, ")
        more = exc.error_count() - 1
        if more:
            message += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise CatalogDataError(path, key_of(loc) or None, message) from None
