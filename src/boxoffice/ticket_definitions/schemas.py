"""Ticket Definitions v3 wire shapes, named as in `@wix/auto_sdk_events_ticket-definitions-v-2`."""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import Field

from ..schemas import Money, Namespaces, PagingMetadata, QueryV2, StrictInt, WixDateTime, WixModel


class FeeType(str, Enum):
    FEE_INCLUDED = "FEE_INCLUDED"
    FEE_ADDED_AT_CHECKOUT = "FEE_ADDED_AT_CHECKOUT"
    NO_FEE = "NO_FEE"


class Fieldset(str, Enum):
    SALES_DETAILS = "SALES_DETAILS"
    EVENT_DETAILS = "EVENT_DETAILS"
    SEATING_DETAILS = "SEATING_DETAILS"


class OptionDetails(WixModel):
    option_id: str | None = None
    name: str | None = Field(None, min_length=1, max_length=200)
    price: Money | None = None


class PricingOptions(WixModel):
    option_details: list[OptionDetails] | None = Field(None, max_length=100)


class PricingMethod(WixModel):
    fixed_price: Money | None = None
    guest_price: Money | None = None
    pricing_options: PricingOptions | None = None


class SalePeriod(WixModel):
    start_date: WixDateTime | None = None
    end_date: WixDateTime | None = None
    display_not_on_sale: bool | None = None


class ExtendedFields(WixModel):
    namespaces: Namespaces | None = None


class TicketDefinitionIn(WixModel):
    """Read-only fields (limited, actualLimit, saleStatus, ...) are accepted and ignored."""

    id: str | None = None
    event_id: str | None = None
    revision: str | int | None = None
    name: str | None = Field(None, min_length=1, max_length=30)
    description: str | None = Field(None, max_length=500)
    policy_text: str | None = Field(None, max_length=1000)
    hidden: bool | None = None
    initial_limit: StrictInt | None = Field(None, ge=1, le=1_000_000)
    pricing_method: PricingMethod | None = None
    fee_type: FeeType | None = None
    sale_period: SalePeriod | None = None
    extended_fields: ExtendedFields | None = None


class CreateTicketDefinitionRequest(WixModel):
    ticket_definition: TicketDefinitionIn
    fields: list[Fieldset] | None = Field(None, max_length=5)


class UpdateTicketDefinitionRequest(WixModel):
    ticket_definition: TicketDefinitionIn
    fields: list[Fieldset] | None = Field(None, max_length=5)
    mask: str | list[str] | dict[str, Any] | None = Field(
        None, description='Field mask: "a,b.c", ["a"], or {"paths": [...]}. Without it, the fields sent change.'
    )


class ReorderTicketDefinitionsRequest(WixModel):
    event_id: str
    ticket_definition_id: str
    before_definition_id: str | None = None
    after_definition_id: str | None = None
    before_ticket_definition_id: str | None = Field(None, description="Alias used in Wix's printed example")
    after_ticket_definition_id: str | None = Field(None, description="Alias used in Wix's printed example")


class QueryTicketDefinitionsRequest(WixModel):
    query: QueryV2 | None = None
    fields: list[Fieldset] | None = Field(None, max_length=5)


class CountTicketDefinitionsRequest(WixModel):
    filter: dict[str, Any] | None = None
    facet: list[str] | None = Field(None, max_length=20)


class CountAvailableTicketDefinitionsRequest(WixModel):
    filter: dict[str, Any] | None = None


class BulkDeleteTicketDefinitionsByFilterRequest(WixModel):
    filter: dict[str, Any]


class ChangeCurrencyRequest(WixModel):
    event_id: str
    currency: str = Field(min_length=3, max_length=3)


# --- responses ---------------------------------------------------------------


class MoneyOut(WixModel):
    value: str
    currency: str


class OptionDetailsOut(WixModel):
    option_id: str
    name: str
    price: MoneyOut


class PricingOptionsOut(WixModel):
    option_details: list[OptionDetailsOut]


class PricingMethodOut(WixModel):
    fixed_price: MoneyOut | None = None
    guest_price: MoneyOut | None = None
    pricing_options: PricingOptionsOut | None = None
    pricing_type: str
    free: bool


class SalePeriodOut(WixModel):
    start_date: str | None = None
    end_date: str | None = None
    display_not_on_sale: bool


class SalesDetails(WixModel):
    unsold_count: int | None
    sold_count: int
    reserved_count: int
    sold_out: bool


class EventDetails(WixModel):
    title: str | None = None
    short_description: str | None = None
    location: dict[str, Any] | None = None
    date_and_time_settings: dict[str, Any] | None = None
    status: str | None = None


class TicketDefinitionOut(WixModel):
    id: str
    event_id: str
    revision: str
    created_date: str
    updated_date: str
    name: str
    description: str | None = None
    policy_text: str | None = None
    hidden: bool
    limited: bool
    initial_limit: int | None = None
    actual_limit: int | None = None
    pricing_method: PricingMethodOut
    fee_type: str
    sale_period: SalePeriodOut | None = None
    sale_status: str
    sales_details: SalesDetails | None = None
    limit_per_checkout: int
    extended_fields: dict[str, Any] | None = None
    event_details: EventDetails | None = None


class TicketDefinitionResponse(WixModel):
    ticket_definition: TicketDefinitionOut


class QueryTicketDefinitionsResponse(WixModel):
    ticket_definitions: list[TicketDefinitionOut]
    metadata: PagingMetadata


class FacetCounts(WixModel):
    counts: dict[str, int]


class CountTicketDefinitionsResponse(WixModel):
    metadata: PagingMetadata
    facets: dict[str, FacetCounts] | None = None
