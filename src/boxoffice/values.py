"""Checks on decoded JSON values that every store and receiver must be able to hold
(pure: the query compiler, the `.r` parser and the body check share them)."""

from __future__ import annotations

from typing import Any

from . import errors, limits


def lone_surrogate(s: str) -> bool:
    """A str no UTF-8 encoder takes: JSON's ``"\\ud800"`` escape, unpaired, decodes to one
    (json.loads lets it through), and PostgreSQL, SQLite and orjson then all fail on it."""
    if s.isascii():
        return False
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def show(s: Any) -> str:
    """``s`` safe to put in an error message (lone surrogates as ``\\udxxx``)."""
    return s.encode("utf-8", "backslashreplace").decode("utf-8") if isinstance(s, str) else repr(s)


def check_json(value: Any, where: str, max_depth: int = limits.MAX_JSON_DEPTH) -> None:
    """Refuse decoded JSON nested deeper than ``max_depth`` or carrying a string (key or
    value) with a lone surrogate. Iterative: a deep value cannot exhaust the stack."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, str):
            if lone_surrogate(v):
                raise errors.InvalidArgument(where, "has a string with a lone surrogate (invalid Unicode)", "FORMAT")
        elif isinstance(v, (dict, list)):
            if depth >= max_depth:
                raise errors.InvalidArgument(where, f"is nested deeper than {max_depth} levels", "FORMAT")
            if isinstance(v, dict):
                stack.extend((k, depth) for k in v)
                stack.extend((x, depth + 1) for x in v.values())
            else:
                stack.extend((x, depth + 1) for x in v)


