"""Small HTTP helpers shared by every ``routes.py``."""

from __future__ import annotations

import base64
import json
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response

from . import errors  # errors imports JSON from here, so only attributes are used
from . import limits

MAX_R_CHARS = limits.MAX_R_CHARS


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


class JSON(Response):
    """A JSON body serialised with orjson (200 unless told; the SDK accepts nothing else
    as success)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def get_params(request: Request) -> dict[str, Any]:

    """Query parameters of a GET/DELETE, including the SDK's ``.r`` form.

    ``.r`` is base64url(JSON of the whole request); repeated keys become lists. It is
    bounded: at most MAX_R_CHARS long, nested at most limits.MAX_JSON_DEPTH deep, no
    lone surrogates; else a 400.
    """
    out: dict[str, Any] = {}
    for k in request.query_params.keys():
        if k == ".r":
            continue
        vals = request.query_params.getlist(k)
        out[k] = vals if len(vals) > 1 else vals[0]
    r = request.query_params.get(".r")
    if r:
        if len(r) > MAX_R_CHARS:
            raise errors.InvalidArgument(".r", f"is longer than {MAX_R_CHARS} characters", "MAX_LENGTH")
        try:
            decoded = json.loads(base64.urlsafe_b64decode(r + "=" * (-len(r) % 4)))
        except RecursionError:  # json.loads recurses per level; the walk below bounds the rest
            raise errors.InvalidArgument(".r", f"is nested deeper than {limits.MAX_JSON_DEPTH} levels", "FORMAT") from None
        except (ValueError, UnicodeDecodeError):
            raise errors.InvalidArgument(".r", "is not base64url-encoded JSON", "FORMAT") from None
        if not isinstance(decoded, dict):
            raise errors.InvalidArgument(".r", "must encode an object", "FORMAT")
        check_json(decoded, ".r")
        out.update(decoded)
    return out


def list_param(params: dict[str, Any], name: str) -> list[str] | None:

    v = params.get(name)
    if v is None:
        return None
    vals = v if isinstance(v, list) else [v]
    if not all(isinstance(x, str) for x in vals):
        raise errors.InvalidArgument(name, "must be a list of strings", "FORMAT")
    # `fields=A,B` (a comma-joined field mask) is accepted as well as repeated keys
    return [p for x in vals for p in x.split(",") if p]


def secret(request: Request) -> bytes:
    return request.app.state.secret


def list_params(request: Request, arrays: tuple[str, ...], max_limit: int, default_limit: int) -> dict[str, Any]:
    """A legacy List call's query: repeated keys as lists, plus checked offset/limit.
    A limit above what a page may hold is served as the largest page (Wix's orders
    accept 400 and answer with at most 100); an offset above limits.MAX_OFFSET, or more
    than limits.FILTER_MAX_IN values for one repeated key, is a 400."""
    p = get_params(request)
    for k in arrays:
        v = p.get(k)
        if v is not None and not isinstance(v, list):
            p[k] = [v]
        if v is not None and len(p[k]) > limits.FILTER_MAX_IN:  # each becomes one SQL IN list
            raise errors.InvalidArgument(k, f"has more than {limits.FILTER_MAX_IN} values", "MAX_SIZE")
    for k, default in (("offset", 0), ("limit", default_limit)):
        raw = p.get(k, default)
        try:
            p[k] = int(raw)
        except (TypeError, ValueError):
            raise errors.InvalidArgument(k, "must be an integer", "FORMAT") from None
        if p[k] < 0:
            raise errors.InvalidArgument(k, "must not be negative", "MIN")
    if p["offset"] > limits.MAX_OFFSET:
        raise errors.InvalidArgument("offset", f"must be at most {limits.MAX_OFFSET}", "MAX")
    p["limit"] = min(p["limit"], max_limit)
    return p


def fieldsets(values: Any, allowed: Any, name: str) -> list[str]:
    """Requested fieldsets (enum members or strings), each one checked against ``allowed``."""
    out = [getattr(v, "value", v) for v in values or []]
    known = {getattr(a, "value", a) for a in allowed}
    for v in out:
        if v not in known:
            raise errors.InvalidArgument(name, f'unknown fieldset "{v}"', "FORMAT")
    return out


def field_mask(mask: Any, name: str = "mask") -> list[str] | None:
    """A field mask as Wix sends it: ``"a,b.c"``, ``["a"]`` or ``{"paths": [...]}``."""
    if mask is None:
        return None
    if isinstance(mask, dict):
        mask = mask.get("paths", [])
    if isinstance(mask, str):
        mask = mask.split(",")
    if not isinstance(mask, list) or not all(isinstance(p, str) for p in mask):
        raise errors.InvalidArgument(name, "must be a field mask", "FORMAT")
    return [p.strip() for p in mask if p.strip()]
