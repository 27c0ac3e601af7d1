"""Shared wire-shape building blocks: camelCase aliases, money, paging metadata."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class WixModel(BaseModel):
    """Request models ignore fields they do not know: the SDK repeats path params in
    bodies and sends read-only fields back on update."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


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
