"""Shared wire-shape building blocks: camelCase aliases, money, paging metadata."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict
from pydantic.alias_generators import to_camel

from . import limits


class WixModel(BaseModel):
    """Request models ignore fields they do not know: the SDK repeats path params in
    bodies and sends read-only fields back on update."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


def _utc(value: dt.datetime) -> dt.datetime:
    """Aware, in UTC, and inside the range every later calculation can hold: a date
    such as 9999-12-31T23:59:59-14:00 parses but overflows once moved to UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    try:
        out = value.astimezone(dt.UTC)
        out + dt.timedelta(days=366)  # room for the arithmetic done on dates (sale periods, holds)
        out - dt.timedelta(days=366)
    except OverflowError:
        raise ValueError("is out of the supported date range (years 2 to 9998)") from None
    return out


# A timestamp on the wire: stored in UTC, refused (400) when outside what can be computed with.
WixDateTime = Annotated[dt.datetime, AfterValidator(_utc)]
# Wix's integers are strict: "3", 3.0 and true are not the integer 3.
StrictInt = Annotated[int, Strict()]


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a JSON value, without recursion (so depth itself cannot crash it)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        deepest = max(deepest, d)
        if deepest > limit:
            return deepest
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
    return deepest


def _keys_ok(value: Any, limit: int) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            if len(v) > limit:
                return False
            stack.extend(v.values())
        elif isinstance(v, list):
            if len(v) > limit:
                return False
            stack.extend(v)
    return True


def _freeform(value: Any) -> Any:
    """A map a client may fill freely (tags, extendedFields) is stored and fanned out to
    every webhook subscription: bound its size, depth and width (limits.FREEFORM_*)."""
    if value is None:
        return value
    if _depth(value, limits.FREEFORM_MAX_DEPTH) > limits.FREEFORM_MAX_DEPTH:
        raise ValueError(f"is nested deeper than {limits.FREEFORM_MAX_DEPTH} levels")
    if not _keys_ok(value, limits.FREEFORM_MAX_KEYS):
        raise ValueError(f"has more than {limits.FREEFORM_MAX_KEYS} keys or items at one level")
    try:
        size = len(orjson.dumps(value))
    except orjson.JSONEncodeError:  # an integer beyond 64 bits: no store or receiver takes it
        raise ValueError("holds a number too large to store") from None
    if size > limits.FREEFORM_MAX_BYTES:
        raise ValueError(f"is larger than {limits.FREEFORM_MAX_BYTES} bytes")
    return value


# A free-form JSON object from a client, bounded as above.
FreeForm = Annotated[dict[str, Any], AfterValidator(_freeform)]
# extendedFields.namespaces: {namespace: {field: value}}, bounded the same way.
Namespaces = Annotated[dict[str, dict[str, Any]], AfterValidator(_freeform)]


class Money(WixModel):
    value: str | None = Field(None, description='Decimal string, e.g. "10.50"')
    currency: str | None = Field(None, description="ISO-4217 code")


class Cursors(WixModel):
    next: str | None = None
    prev: str | None = None


class PagingMetadata(WixModel):
    count: int | None = None
    offset: int | None = None
    total: int | None = None
    too_many_to_count: bool | None = None
    cursors: Cursors | None = None


class Paging(WixModel):
    limit: int | None = None
    offset: int | None = None


class CursorPaging(WixModel):
    limit: int | None = None
    cursor: str | None = None


class Sorting(WixModel):
    field_name: str | None = None
    order: str | None = None


class QueryV2(WixModel):
    """Documented for OpenAPI; the compiler in query.py reads the raw object."""

    filter: dict[str, Any] | None = None
    sort: list[Sorting] | None = None
    paging: Paging | None = None
    cursor_paging: CursorPaging | None = None


class Empty(WixModel):
    pass
