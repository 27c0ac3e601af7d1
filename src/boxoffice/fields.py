"""Fieldsets and field masks as Wix sends them: parsed here, for services and routes
alike (pure: no HTTP)."""

from __future__ import annotations

from typing import Any

from . import errors


def list_param(params: dict[str, Any], name: str) -> list[str] | None:
    """A repeated (or comma-joined) string parameter as a list; None when absent."""
    v = params.get(name)
    if v is None:
        return None
    vals = v if isinstance(v, list) else [v]
    if not all(isinstance(x, str) for x in vals):
        raise errors.InvalidArgument(name, "must be a list of strings", "FORMAT")
    # `fields=A,B` (a comma-joined field mask) is accepted as well as repeated keys
    return [p for x in vals for p in x.split(",") if p]


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
