"""Ticket Reservations wire shapes (`@wix/auto_sdk_events_ticket-reservations`)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from ..limits import BULK_RESERVATION_IDS_MAX, RESERVATION_TAG_ID_MAX_CHARS, RESERVATION_TAGS_MAX
from ..schemas import FreeForm, Namespaces, StrictInt, WixModel


class TicketInfo(WixModel):
    seat_id: str | None = Field(None, max_length=36)
    guest_price: str | None = Field(None, max_length=20, description="Decimal string, at least the minimum")
    pricing_option_id: str | None = Field(None, max_length=100)
    price_override: str | None = Field(None, max_length=20)


class TicketLineItemIn(WixModel):
    ticket_definition_id: str = Field(max_length=100)
    quantity: StrictInt = Field(ge=1, le=50)
    ticket_info: TicketInfo | None = None


class AdditionalReservationSettings(WixModel):
    disable_ticket_limit_validation: bool | None = None
    enable_hidden_ticket_reservation: bool | None = None


class ExtendedFields(WixModel):
    namespaces: Namespaces | None = None


class TicketReservationIn(WixModel):
    tickets: list[TicketLineItemIn] = Field(min_length=1, max_length=50)
    additional_reservation_settings: AdditionalReservationSettings | None = None
    extended_fields: ExtendedFields | None = None
    tags: FreeForm | None = None


class CreateTicketReservationRequest(WixModel):
    ticket_reservation: TicketReservationIn


class MoneyOut(WixModel):
    value: str
    currency: str


class TicketLineItemOut(WixModel):
    ticket_line_item_id: str
    event_id: str
    ticket_definition_id: str = Field(max_length=100)
    quantity: int
    ticket_info: dict[str, Any]
    event_settings_snapshot: dict[str, Any]
    removed_quantity: int
    policy: str
    ticket_name: str
    price: MoneyOut
    sub_total: MoneyOut


class TicketReservationOut(WixModel):
    id: str
    revision: str
    created_date: str
    updated_date: str
    expiration_date: str | None = None
    status: str
    member_id: str | None = None
    visitor_id: str | None = None
    tickets: list[TicketLineItemOut]
    additional_reservation_settings: dict[str, Any] | None = None
    extended_fields: dict[str, Any] | None = None
    tags: dict[str, Any] | None = None


class TicketReservationResponse(WixModel):
    ticket_reservation: TicketReservationOut


# --- Bulk Update Ticket Reservation Tags (By Filter) ------------------------------------


class TagList(WixModel):
    tag_ids: list[Annotated[str, Field(min_length=1, max_length=RESERVATION_TAG_ID_MAX_CHARS)]] = Field(
        default_factory=list, max_length=RESERVATION_TAGS_MAX
    )


class Tags(WixModel):
    private_tags: TagList | None = None
    tags: TagList | None = None


class BulkUpdateTicketReservationTagsRequest(WixModel):
    ids: list[Annotated[str, Field(min_length=1, max_length=36)]] = Field(min_length=1, max_length=BULK_RESERVATION_IDS_MAX)
    assign_tags: Tags
    unassign_tags: Tags | None = None


class BulkUpdateTicketReservationTagsByFilterRequest(WixModel):
    filter: dict[str, Any]
    assign_tags: Tags
    unassign_tags: Tags | None = None


class ItemError(WixModel):
    code: str
    description: str
    data: dict[str, Any] | None = None


class ItemMetadata(WixModel):
    id: str | None = None
    original_index: int
    success: bool
    error: ItemError | None = None


class BulkUpdateTicketReservationTagsResult(WixModel):
    item_metadata: ItemMetadata


class BulkActionMetadata(WixModel):
    total_successes: int
    total_failures: int
    undetailed_failures: int


class BulkUpdateTicketReservationTagsResponse(WixModel):
    results: list[BulkUpdateTicketReservationTagsResult]
    bulk_action_metadata: BulkActionMetadata


class BulkUpdateTicketReservationTagsByFilterResponse(WixModel):
    job_id: str
