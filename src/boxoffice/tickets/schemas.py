"""Tickets wire shapes (`@wix/auto_sdk_events_tickets`, legacy v1)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from ..limits import BULK_TICKETS_MAX
from ..orders.schemas import FormResponse
from ..schemas import WixModel


class CheckInRequest(WixModel):
    event_id: str
    ticket_number: list[str] = Field(min_length=1, max_length=100)


class GuestDetailsIn(WixModel):
    form: FormResponse | None = None


class UpdateTicketRequest(WixModel):
    event_id: str | None = None
    fields: str | list[str] | None = None
    archived: bool | None = None
    guest_details: GuestDetailsIn | None = None


class ScanRequest(WixModel):
    code: str = Field(min_length=1, max_length=2048, description="The signed payload of a ticket's QR code")


class TicketResponse(WixModel):
    ticket: dict[str, Any]


class TicketsResponse(WixModel):
    tickets: list[dict[str, Any]]


class ListTicketsResponse(WixModel):
    total: int
    offset: int
    limit: int
    tickets: list[dict[str, Any]]
    facets: dict[str, Any]


class BulkUpdateTicketsRequest(WixModel):
    event_id: str | None = Field(None, max_length=36)
    ticket_number: list[Annotated[str, Field(min_length=1, max_length=36)]] = Field(min_length=1, max_length=BULK_TICKETS_MAX)
    archived: bool | None = None
