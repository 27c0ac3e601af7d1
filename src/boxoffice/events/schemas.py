"""Events v3 wire shapes: the `Event` of `@wix/auto_sdk_events_wix-events-v-2` (typings and
its zod schemas), every growing field bounded."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import orjson
from pydantic import AfterValidator, Field

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


# --- limits ----------------------------------------------------------------------
# The typings' @maxLength / @maxSize / @min / @max are written on the fields below. Where
# the typings give none, these (README "Security" lists them):
# RichContent `description`: serialised bytes, and items or keys at one level (its depth
# is the body's, limits.MAX_JSON_DEPTH).
DESCRIPTION_MAX_BYTES = 200_000
DESCRIPTION_MAX_KEYS = 2_000
# An image's id / file name / alt text, and any URL (image, external registration, page).
IMAGE_TEXT_MAX = 500
URL_MAX = 2_048
# SEO tags of one event, and the characters of one tag's inner content.
SEO_TAGS_MAX = 50
SEO_TAG_TEXT_MAX = 5_000
# rsvp.limit: guests an RSVP event takes at most.
RSVP_LIMIT_MAX = 1_000_000


def _rich_content(value: Any) -> Any:
    """A RichContent document is free-form JSON (the SDK types it `any`): bounded in
    size and width; lone surrogates and depth are refused for the whole body already."""
    if value is None:
        return value
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, (dict, list)):
            if len(v) > DESCRIPTION_MAX_KEYS:
                raise ValueError(f"has more than {DESCRIPTION_MAX_KEYS} keys or items at one level")
            stack.extend(v.values() if isinstance(v, dict) else v)
    try:
        size = len(orjson.dumps(value))
    except orjson.JSONEncodeError:
        raise ValueError("holds a number too large to store") from None
    if size > DESCRIPTION_MAX_BYTES:
        raise ValueError(f"is larger than {DESCRIPTION_MAX_BYTES} bytes")
    return value


RichContent = Annotated[dict[str, Any], AfterValidator(_rich_content)]
Guid = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
Url = Annotated[str, Field(max_length=URL_MAX)]


class StreetAddress(WixModel):
    number: str | None = Field(None, max_length=100)
    name: str | None = Field(None, max_length=250)
    apt: str | None = Field(None, max_length=100)
    formatted_address_line: str | None = Field(None, max_length=500)


class Geocode(WixModel):
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)


class Address(WixModel):
    """The REST address (the SDK sends `formatted` as `formattedAddress`, `location` as
    `geocode`, `addressLine1` as `addressLine`). `countryFullname` and
    `subdivisionFullname` are read-only: computed from the codes."""

    formatted_address: str | None = Field(None, max_length=500)
    geocode: Geocode | None = None
    street_address: StreetAddress | None = None
    address_line: str | None = Field(None, max_length=250)
    address_line2: str | None = Field(None, max_length=250)
    city: str | None = Field(None, max_length=100)
    subdivision: str | None = Field(None, max_length=20)
    country: str | None = Field(None, max_length=2)
    postal_code: str | None = Field(None, max_length=100)
    hint: str | None = Field(None, max_length=250)


class Location(WixModel):
    name: str | None = Field(None, max_length=50)
    type: LocationType | None = None
    address: Address | None = None
    location_tbd: bool | None = None


class Occurrence(WixModel):
    start_date: WixDateTime | None = None
    end_date: WixDateTime | None = None
    time_zone_id: str | None = Field(None, max_length=100)
    show_time_zone: bool | None = None


class Recurrences(WixModel):
    individual_event_dates: list[Occurrence] | None = Field(None, max_length=1000)


class DateAndTimeSettings(WixModel):
    """`recurrenceStatus`, `recurringEvents.categoryId` and `formatted` are read-only."""

    date_and_time_tbd: bool | None = None
    date_and_time_tbd_message: str | None = Field(None, max_length=100)
    start_date: WixDateTime | None = None
    end_date: WixDateTime | None = None
    time_zone_id: str | None = Field(None, max_length=100)
    hide_end_date: bool | None = None
    show_time_zone: bool | None = None
    recurring_events: Recurrences | None = None


class ResponseType(str, Enum):
    YES_ONLY = "YES_ONLY"
    YES_AND_NO = "YES_AND_NO"


class RsvpRegistration(WixModel):
    response_type: ResponseType | None = None
    limit: StrictInt | None = Field(None, ge=1, le=RSVP_LIMIT_MAX)
    waitlist_enabled: bool | None = None
    start_date: WixDateTime | None = None
    end_date: WixDateTime | None = None


class TaxType(str, Enum):
    INCLUDED_IN_PRICE = "INCLUDED_IN_PRICE"
    ADDED_AT_CHECKOUT = "ADDED_AT_CHECKOUT"


class TaxSettings(WixModel):
    type: TaxType | None = None
    name: str | None = Field(None, min_length=1, max_length=10)
    # @decimalValue options { gte:0.001, lte:100, maxScale:3 } (checked in the service)
    rate: str | None = Field(None, max_length=20)
    applied_to_donations: bool | None = None


class TicketsSettings(WixModel):
    """`lowestPrice`, `highestPrice` and `soldOut` are read-only (ticket definitions
    compute them)."""

    guests_assigned_separately: bool | None = None
    ticket_limit_per_order: StrictInt | None = Field(None, ge=1, le=50)
    currency: str | None = Field(None, min_length=3, max_length=3)
    tax_settings: TaxSettings | None = None
    reservation_duration_in_minutes: StrictInt | None = Field(None, ge=5, le=30)


class ExternalRegistration(WixModel):
    url: Url | None = None


class GuestType(str, Enum):
    VISITOR_OR_MEMBER = "VISITOR_OR_MEMBER"
    MEMBER = "MEMBER"


class Registration(WixModel):
    """`status` is read-only; `type` changes only from RSVP / TICKETING to EXTERNAL / NONE."""

    initial_type: InitialType | None = None
    type: RegistrationType | None = None
    rsvp: RsvpRegistration | None = None
    tickets: TicketsSettings | None = None
    external: ExternalRegistration | None = None
    allowed_guest_types: GuestType | None = None
    registration_paused: bool | None = None
    registration_disabled: bool | None = None


class Image(WixModel):
    """The REST image the SDK makes of `mainImage` (a `wix:image://` string or a URL)."""

    id: str | None = Field(None, max_length=IMAGE_TEXT_MAX)
    url: Url | None = None
    height: StrictInt | None = Field(None, ge=0, le=100_000)
    width: StrictInt | None = Field(None, ge=0, le=100_000)
    alt_text: str | None = Field(None, max_length=IMAGE_TEXT_MAX)
    filename: str | None = Field(None, max_length=IMAGE_TEXT_MAX)


class PageUrl(WixModel):
    base: Url | None = None
    path: Url | None = None


class GuestListSettings(WixModel):
    displayed_publicly: bool | None = None


class ConferenceType(str, Enum):
    MEETING = "MEETING"
    WEBINAR = "WEBINAR"


class OnlineConferencing(WixModel):
    """`session` is read-only (made by a conferencing provider; none is connected here)."""

    enabled: bool | None = None
    provider_id: Guid | None = None
    type: ConferenceType | None = None


class SeoTag(WixModel):
    type: str | None = Field(None, max_length=100)
    props: FreeForm | None = None
    meta: FreeForm | None = None
    children: str | None = Field(None, max_length=SEO_TAG_TEXT_MAX)
    custom: bool | None = None
    disabled: bool | None = None


class SeoKeyword(WixModel):
    term: str | None = Field(None, max_length=SEO_TAG_TEXT_MAX)
    is_main: bool | None = None
    origin: str | None = Field(None, max_length=1000)


class SeoGeneralSettings(WixModel):
    prevent_auto_redirect: bool | None = None
    keywords: list[SeoKeyword] | None = Field(None, max_length=5)


class SeoSchema(WixModel):
    tags: list[SeoTag] | None = Field(None, max_length=SEO_TAGS_MAX)
    settings: SeoGeneralSettings | None = None


class SeoSettings(WixModel):
    """`hidden` is read-only."""

    slug: str | None = Field(None, max_length=130)
    advanced_seo_data: SeoSchema | None = None


class AgendaSettings(WixModel):
    """`pageUrl` is read-only."""

    enabled: bool | None = None


class EventDisplaySettings(WixModel):
    hide_event_details_button: bool | None = None
    hide_event_details_page: bool | None = None


class EventIn(WixModel):
    """What a client may set. Read-only fields it sends back (`status`, `createdDate`,
    `calendarUrls`, `summaries`, `instanceId`, `userId`, `contactLabel`, `form`, ...) are
    ignored, as Wix does; `form` has an API of its own."""

    id: str | None = None
    title: str | None = Field(None, min_length=1, max_length=120)
    short_description: str | None = Field(None, max_length=500)
    detailed_description: str | None = Field(None, max_length=50_000)
    main_image: Image | None = None
    slug: str | None = Field(None, max_length=200)
    location: Location | None = None
    date_and_time_settings: DateAndTimeSettings | None = None
    registration: Registration | None = None
    event_page_url: PageUrl | None = None
    guest_list_settings: GuestListSettings | None = None
    online_conferencing: OnlineConferencing | None = None
    seo_settings: SeoSettings | None = None
    agenda_settings: AgendaSettings | None = None
    event_display_settings: EventDisplaySettings | None = None
    description: RichContent | None = None


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
    address: dict[str, Any] | None = None
    location_tbd: bool | None = None


class FormattedOut(WixModel):
    date_and_time: str | None = None
    start_date: str | None = None
    start_time: str | None = None
    end_date: str | None = None
    end_time: str | None = None


class DateAndTimeSettingsOut(WixModel):
    date_and_time_tbd: bool | None = None
    date_and_time_tbd_message: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    time_zone_id: str | None = None
    hide_end_date: bool | None = None
    show_time_zone: bool | None = None
    recurrence_status: str | None = None
    recurring_events: dict[str, Any] | None = None
    formatted: FormattedOut | None = None


class MoneyOut(WixModel):
    value: str | None = None
    currency: str | None = None
    formatted_value: str | None = None


class TicketsSettingsOut(WixModel):
    guests_assigned_separately: bool | None = None
    ticket_limit_per_order: int | None = None
    currency: str | None = None
    lowest_price: MoneyOut | None = None
    highest_price: MoneyOut | None = None
    sold_out: bool | None = None
    tax_settings: dict[str, Any] | None = None
    reservation_duration_in_minutes: int | None = None


class RegistrationOut(WixModel):
    initial_type: str | None = None
    type: str | None = None
    status: str | None = None
    rsvp: dict[str, Any] | None = None
    tickets: TicketsSettingsOut | None = None
    external: dict[str, Any] | None = None
    allowed_guest_types: str | None = None
    registration_paused: bool | None = None
    registration_disabled: bool | None = None


class CalendarUrlsOut(WixModel):
    google: str | None = None
    ics: str | None = None


class PageUrlOut(WixModel):
    base: str | None = None
    path: str | None = None


class AgendaSettingsOut(WixModel):
    enabled: bool | None = None
    page_url: PageUrlOut | None = None


class EventCategoriesOut(WixModel):
    categories: list[dict[str, Any]] | None = None


class EventOut(WixModel):
    """The Event as Events v3 returns it; which fieldset adds which field: events/wire.py."""

    id: str
    title: str | None = None
    short_description: str | None = None
    detailed_description: str | None = None
    main_image: dict[str, Any] | None = None
    slug: str | None = None
    status: str | None = None
    location: LocationOut | None = None
    date_and_time_settings: DateAndTimeSettingsOut | None = None
    registration: RegistrationOut | None = None
    calendar_urls: CalendarUrlsOut | None = None
    event_page_url: PageUrlOut | None = None
    form: dict[str, Any] | None = None
    summaries: dict[str, Any] | None = None
    instance_id: str | None = None
    guest_list_settings: dict[str, Any] | None = None
    user_id: str | None = None
    online_conferencing: dict[str, Any] | None = None
    seo_settings: dict[str, Any] | None = None
    agenda_settings: AgendaSettingsOut | None = None
    event_display_settings: dict[str, Any] | None = None
    description: dict[str, Any] | None = None
    categories: EventCategoriesOut | None = None
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
