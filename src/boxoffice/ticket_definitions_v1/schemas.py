"""Ticket Definitions v1 (legacy) wire shapes, named as in `@wix/auto_sdk_events_ticket-definitions`
1.0.53 (`build/es/meta.d.mts`: the REST side, `id` not `_id`, Money with `amount`).

Input bounds are those of the typings, and never looser than Ticket Definitions v3's, whose
service every write goes through (name 30, description 500, policy 1000, 100 price options
of 1-200 characters, a limit of 1 to 1,000,000)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from pydantic import Field

from ..schemas import Cursors, StrictInt, WixDateTime, WixModel


class FeeType(str, Enum):
    FEE_ADDED = "FEE_ADDED"
    FEE_INCLUDED = "FEE_INCLUDED"
    FEE_ADDED_AT_CHECKOUT = "FEE_ADDED_AT_CHECKOUT"


class Fieldset(str, Enum):
    POLICY = "POLICY"
    DASHBOARD = "DASHBOARD"


class State(str, Enum):
    VISIBLE = "VISIBLE"
    HIDDEN = "HIDDEN"
    FREE = "FREE"
    PAID = "PAID"


class SaleStatus(str, Enum):
    SALE_SCHEDULED = "SALE_SCHEDULED"
    SALE_STARTED = "SALE_STARTED"
    SALE_ENDED = "SALE_ENDED"


# --- requests ----------------------------------------------------------------------


class MoneyIn(WixModel):
    """Legacy Money: ``value`` or (older) ``amount``; without ``currency`` the event's."""

    amount: str | None = Field(None, max_length=32, description="Legacy spelling of value")
    value: str | None = Field(None, max_length=32, description='Decimal string, e.g. "10.50"')
    currency: str | None = Field(None, max_length=3, description="ISO-4217 code; default: the event's currency")


class PricingOptionIn(WixModel):
    id: str | None = Field(None, max_length=36)
    name: str | None = Field(None, min_length=1, max_length=200)
    price: MoneyIn | None = None


class PricingOptionsIn(WixModel):
    options: list[PricingOptionIn] | None = Field(None, max_length=100)


class TicketPricingIn(WixModel):
    """Exactly one of fixedPrice / minPrice / pricingOptions (``pricingType`` is read-only)."""

    fixed_price: MoneyIn | None = None
    min_price: MoneyIn | None = None
    pricing_options: PricingOptionsIn | None = None


class WixFeeConfigIn(WixModel):
    type: FeeType | None = None


class SalePeriodIn(WixModel):
    start_date: WixDateTime | None = None
    end_date: WixDateTime | None = None
    hide_not_on_sale: bool | None = None


class TicketDefinitionData(WixModel):
    name: str | None = Field(None, min_length=1, max_length=30)
    price: MoneyIn | None = Field(None, description="Legacy fixed price; `pricing` wins when both are given")
    description: str | None = Field(None, max_length=500)
    limited: bool | None = None
    quantity: StrictInt | None = Field(None, ge=1, le=1_000_000)
    order_index: StrictInt | None = Field(None, ge=0, le=1_000_000)
    policy: str | None = Field(None, max_length=1000)
    hidden: bool | None = None
    wix_fee_config: WixFeeConfigIn | None = None
    sale_period: SalePeriodIn | None = None
    pricing: TicketPricingIn | None = None


class CreateTicketDefinitionRequest(WixModel):
    event_id: str = Field(max_length=64)
    definition: TicketDefinitionData


class UpdateTicketDefinitionRequest(WixModel):
    event_id: str = Field(max_length=64)
    definition_id: str | None = Field(None, max_length=64, description="Repeats the path (ignored)")
    definition: TicketDefinitionData | None = None
    fields: str | list[str] | None = Field(
        None,
        max_length=200,
        description='Field mask over `definition` ("name,price" or a list); without it, the fields sent change',
    )


class ChangeCurrencyRequest(WixModel):
    event_id: str | None = Field(None, max_length=64)
    currency: str = Field(min_length=3, max_length=3)


# a field's name in ``facet`` and ``query.fields`` (bounded: a refusal names it back)
FieldName = Annotated[str, Field(max_length=100)]


class QueryTicketDefinitionsRequest(WixModel):
    offset: StrictInt | None = Field(None, ge=0, le=100_000)
    limit: StrictInt | None = Field(None, ge=0, le=100, description="0 or absent: 100")
    fieldset: list[Fieldset] | None = Field(None, max_length=20)
    filter: dict[str, Any] | None = None
    sort: str | None = Field(None, max_length=100, description='"created:asc" (default), "name:desc", "orderIndex:asc"')
    facet: list[FieldName] | None = Field(None, max_length=10)


class PagingIn(WixModel):
    limit: StrictInt | None = None
    offset: StrictInt | None = None


class CursorPagingIn(WixModel):
    limit: StrictInt | None = None
    cursor: str | None = Field(None, max_length=16_000)


class SortingIn(WixModel):
    field_name: str | None = Field(None, max_length=512)
    order: str | None = None


class QueryV2(WixModel):
    """The query compiler (query.py) reads the raw object; this documents it."""

    filter: dict[str, Any] | None = None
    sort: list[SortingIn] | None = Field(None, max_length=10)
    paging: PagingIn | None = None
    cursor_paging: CursorPagingIn | None = None
    fields: list[FieldName] | None = Field(None, max_length=100, description='"policy" and "dashboard" add those parts')
    fieldsets: list[Fieldset] | None = Field(None, max_length=20)


class QueryTicketDefinitionsV2Request(WixModel):
    query: QueryV2 | None = None


# --- responses ---------------------------------------------------------------------


class MoneyOut(WixModel):
    amount: str
    value: str
    currency: str


class PricingOptionOut(WixModel):
    id: str
    name: str
    price: MoneyOut


class PricingOptionsOut(WixModel):
    options: list[PricingOptionOut]


class TicketPricingOut(WixModel):
    fixed_price: MoneyOut | None = None
    min_price: MoneyOut | None = None
    pricing_options: PricingOptionsOut | None = None
    pricing_type: str


class Dashboard(WixModel):
    hidden: bool
    sold: int
    limited: bool
    quantity: int | None
    unsold: int | None
    tickets_sold: int
    tickets_reserved: int


class WixFeeConfigOut(WixModel):
    type: FeeType


class SalePeriodOut(WixModel):
    start_date: str | None = None
    end_date: str | None = None
    hide_not_on_sale: bool


class TicketDefinitionOut(WixModel):
    id: str
    price: MoneyOut
    free: bool
    name: str
    description: str
    limit_per_checkout: int
    order_index: int
    policy: str | None = None
    dashboard: Dashboard | None = None
    event_id: str
    wix_fee_config: WixFeeConfigOut
    sale_period: SalePeriodOut
    sale_status: SaleStatus
    state: list[str]
    pricing: TicketPricingOut


class DefinitionResponse(WixModel):
    definition: TicketDefinitionOut


class FacetCounts(WixModel):
    counts: dict[str, int]


class QueryTicketDefinitionsResponse(WixModel):
    total: int
    offset: int
    limit: int
    definitions: list[TicketDefinitionOut]
    facets: dict[str, FacetCounts]


class PagingMetadataV2(WixModel):
    count: int | None = None
    offset: int | None = None
    total: int | None = None
    too_many_to_count: bool | None = None
    cursors: Cursors | None = None


class QueryTicketDefinitionsV2Response(WixModel):
    definitions: list[TicketDefinitionOut]
    metadata: PagingMetadataV2


class ResponseMetaData(WixModel):
    count: int
    offset: int
    total: int


class ListTicketDefinitionsResponse(WixModel):
    meta_data: ResponseMetaData
    definitions: list[TicketDefinitionOut]
    facets: dict[str, FacetCounts]
