"""Event guests' wire shapes (`@wix/auto_sdk_events_guests` 1.0.62): Query Event Guests'
request and response. Every growing input is bounded: the query by query.py's limits,
the fieldsets here (the typings: ``fields`` @maxSize 3)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from ..schemas import PagingMetadata, QueryV2, WixModel

# Fieldsets in one request (the typings: ``fields`` @maxSize 3; ``query.fieldsets`` likewise).
FIELDSETS_MAX = 3
FIELDSET_NAME_MAX = 100


class RequestedField(StrEnum):
    """The typings' ``RequestedFieldsEnumRequestedFields``."""

    GUEST_DETAILS = "GUEST_DETAILS"  # guestDetails and tickets
    GUEST_TOTAL = "GUEST_TOTAL"  # totalGuests


FieldsetName = Annotated[str, Field(max_length=FIELDSET_NAME_MAX)]


class GuestQueryV2(QueryV2):
    fieldsets: list[FieldsetName] | None = Field(
        None, max_length=FIELDSETS_MAX, description='Deprecated by Wix: "guestDetails" is GUEST_DETAILS'
    )


class QueryEventGuestsRequest(WixModel):
    query: GuestQueryV2 | None = None
    fields: list[RequestedField] | None = Field(None, max_length=FIELDSETS_MAX)


# --- responses ---------------------------------------------------------------


class TicketDetailsOut(WixModel):
    number: str
    definition_id: str | None = None
    name: str | None = None


class InputValueOut(WixModel):
    input_name: str | None = None
    value: str | None = None
    values: list[str] | None = None


class FormResponseOut(WixModel):
    input_values: list[InputValueOut] = []


class CheckInDetailsOut(WixModel):
    checked_in: bool
    check_in_date: str | None = None
    check_in_canceled_date: str | None = None
    checked_in_by: str | None = None
    check_in_canceled_by: str | None = None
    checked_in_by_staff_member: str | None = None
    check_in_canceled_by_staff_member: str | None = None


class GuestDetailsOut(WixModel):
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    form_response: FormResponseOut
    checked_in: bool
    phone: str | None = None
    address: str | None = None
    check_in_details: list[CheckInDetailsOut] | None = None


class AdditionalDetailsOut(WixModel):
    created_date: str
    updated_date: str
    order_status: str


class EventGuestOut(WixModel):
    id: str
    event_id: str
    order_number: str | None = None
    ticket_number: str | None = Field(None, description="A TICKET_HOLDER's ticket")
    tickets: list[TicketDetailsOut] | None = Field(None, description="With the GUEST_DETAILS fieldset")
    contact_id: str
    guest_details: GuestDetailsOut | None = Field(None, description="With the GUEST_DETAILS fieldset")
    attendance_status: str
    created_date: str
    updated_date: str
    attendance_status_updated_date: str
    member_id: str | None = None
    guest_type: str
    total_guests: int | None = Field(None, description="With the GUEST_TOTAL fieldset")
    revision: str
    additional_details: AdditionalDetailsOut


class QueryEventGuestsResponse(WixModel):
    guests: list[EventGuestOut]
    paging_metadata: PagingMetadata
