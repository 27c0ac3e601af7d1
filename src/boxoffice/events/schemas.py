"""Events v3 wire shapes (the subset ticket definitions need)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from pydantic import Field

from ..schemas import FreeForm, PagingMetadata, QueryV2, StrictInt, WixDateTime, WixModel


class LocationType(str, Enum):
    VENUE = "VENUE"
    ONLINE = "ONLINE"


class InitialType(str, Enum):
    RSVP = "RSVP"
    TICKETING = "TICKETING"
    EXTERNAL = "EXTERNAL"


class RegistrationType(str, Enum):
    RSVP = "RSVP"
    TICKETING = "TICKETING"
    EXTERNAL = "EXTERNAL"
    NONE = "NONE"


class EventField(str, Enum):
    DETAILS = "DETAILS"
    TEXTS = "TEXTS"
    REGISTRATION = "REGISTRATION"
    URLS = "URLS"
    FORM = "FORM"
    DASHBOARD = "DASHBOARD"
    FEED = "FEED"
    ONLINE_CONFERENCING_SESSION = "ONLINE_CONFERENCING_SESSION"
    SEO_SETTINGS = "SEO_SETTINGS"
    AGENDA = "AGENDA"
    CATEGORIES = "CATEGORIES"


class Location(WixModel):
    name: str | None = Field(None, max_length=50)
    type: LocationType | None = None
    address: FreeForm | None = None
    location_tbd: bool | None = None


class DateAndTimeSettings(WixModel):
    date_and_time_tbd: bool | None = None
    date_and_time_tbd_message: str | None = Field(None, max_length=100)
    start_date: WixDateTime | None = None
    end_date: WixDateTime | None = None
    time_zone_id: str | None = Field(None, max_length=100)
    hide_end_date: bool | None = None
    show_time_zone: bool | None = None


class TicketsSettings(WixModel):
    guests_assigned_separately: bool | None = None
    ticket_limit_per_order: StrictInt | None = Field(None, ge=1, le=50)
    currency: str | None = Field(None, min_length=3, max_length=3)
    reservation_duration_in_minutes: StrictInt | None = Field(None, ge=5, le=30)


class Registration(WixModel):
    initial_type: InitialType | None = None
    type: RegistrationType | None = None
    tickets: TicketsSettings | None = None


class EventIn(WixModel):
    id: str | None = None
    title: str | None = Field(None, min_length=1, max_length=120)
    short_description: str | None = Field(None, max_length=500)
    slug: str | None = Field(None, max_length=200)
    location: Location | None = None
    date_and_time_settings: DateAndTimeSettings | None = None
    registration: Registration | None = None


class CreateEventRequest(WixModel):
    event: EventIn
    draft: bool | None = None
    fields: list[EventField] | None = Field(None, max_length=20)


class UpdateEventRequest(WixModel):
    event: EventIn
    fields: list[EventField] | None = Field(None, max_length=20)


class PublishDraftEventRequest(WixModel):
    fields: list[EventField] | None = Field(None, max_length=20)


class QueryEventsRequest(WixModel):
    query: QueryV2 | None = None
    fields: list[EventField] | None = Field(None, max_length=20)
    include_drafts: bool | None = None


class CloneEventRequest(WixModel):
    """Clone Event: ``event`` carries what to change in the copy (title, dates, location,
    short description, slug); ``draft`` (default true) whether the copy is a draft."""

    event: EventIn | None = None
    draft: bool | None = None
    fields: list[EventField] | None = Field(None, max_length=20)


class CancelEventRequest(WixModel):
    fields: list[EventField] | None = Field(None, max_length=20)


class ByFilterQuery(WixModel):
    filter: dict[str, Any] | None = None


class BulkEventsByFilterRequest(WixModel):
    """Bulk Cancel / Bulk Delete Events By Filter: ``filter`` is a query whose ``filter``
    selects the events (the SDK's CommonQueryV2)."""

    filter: ByFilterQuery | None = None


class CountEventsByStatusRequest(WixModel):
    filter: dict[str, Any] | None = None
    facet: list[Annotated[str, Field(max_length=100)]] | None = Field(None, max_length=20)
    include_drafts: bool | None = None


class CountEventsByStatusResponse(WixModel):
    facets: dict[str, Any]


# --- responses ---------------------------------------------------------------


class LocationOut(WixModel):
    name: str | None = None
    type: str | None = None
    address: FreeForm | None = None
    location_tbd: bool | None = None


class DateAndTimeSettingsOut(WixModel):
    date_and_time_tbd: bool | None = None
    date_and_time_tbd_message: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    time_zone_id: str | None = None
    hide_end_date: bool | None = None
    show_time_zone: bool | None = None
    recurrence_status: str | None = None


class TicketsSettingsOut(WixModel):
    guests_assigned_separately: bool | None = None
    ticket_limit_per_order: int | None = None
    currency: str | None = None
    reservation_duration_in_minutes: int | None = None


class RegistrationOut(WixModel):
    initial_type: str | None = None
    type: str | None = None
    status: str | None = None
    tickets: TicketsSettingsOut | None = None


class EventOut(WixModel):
    id: str
    title: str | None = None
    short_description: str | None = None
    slug: str | None = None
    status: str | None = None
    location: LocationOut | None = None
    date_and_time_settings: DateAndTimeSettingsOut | None = None
    registration: RegistrationOut | None = None
    instance_id: str | None = None
    created_date: str | None = None
    updated_date: str | None = None
    published_date: str | None = None
    revision: str | None = None


class EventResponse(WixModel):
    event: EventOut


class QueryEventsResponse(WixModel):
    events: list[EventOut]
    paging_metadata: PagingMetadata


class DeleteEventResponse(WixModel):
    event_id: str
