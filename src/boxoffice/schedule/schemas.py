"""Schedule items on the wire (`@wix/auto_sdk_events_schedule` 1.0.45), camelCase, every
growing input bounded by the typings' maxLength / maxSize (models.py holds the numbers)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from pydantic import Field

from .. import limits
from ..schemas import PagingMetadata, QueryV2, WixDateTime, WixModel
from .models import DESCRIPTION_MAX, NAME_MAX, STAGE_NAME_MAX, TAG_MAX, TAGS_MAX, TIME_ZONE_MAX

Id = Annotated[str, Field(max_length=100)]


class ScheduleStatusIn(str, Enum):
    SCHEDULED = "SCHEDULED"
    CANCELED = "CANCELED"


class TimeIntervalIn(WixModel):
    start: WixDateTime | None = None
    end: WixDateTime | None = None
    time_zone_id: str | None = Field(None, min_length=1, max_length=TIME_ZONE_MAX)


class ScheduleItemData(WixModel):
    hidden: bool | None = None
    name: str | None = Field(None, max_length=NAME_MAX)
    time_slot: TimeIntervalIn | None = None
    description: str | None = Field(None, max_length=DESCRIPTION_MAX)
    stage_name: str | None = Field(None, max_length=STAGE_NAME_MAX)
    tags: list[Annotated[str, Field(min_length=1, max_length=TAG_MAX)]] | None = Field(None, max_length=TAGS_MAX)
    status: ScheduleStatusIn | None = None


class AddScheduleItemRequest(WixModel):
    event_id: Id
    item: ScheduleItemData | None = None


class UpdateScheduleItemRequest(WixModel):
    event_id: Id
    item: ScheduleItemData | None = None
    # a field mask: "name,timeSlot.start" as the SDK sends it, or a list of paths
    fields: str | list[Annotated[str, Field(max_length=100)]] | None = Field(None, max_length=1000)


class EventIdRequest(WixModel):
    event_id: Id


class RescheduleDraftRequest(WixModel):
    event_id: Id
    time_zone_id: str = Field(min_length=1, max_length=TIME_ZONE_MAX)
    # a protobuf Duration in JSON: "3600s", "-90.5s"
    time_slot_offset: str | None = Field(None, max_length=40)


class QueryScheduleItemsRequest(WixModel):
    query: QueryV2 | None = None


# --- responses ---------------------------------------------------------------


class TimeIntervalOut(WixModel):
    start: str | None = None
    end: str | None = None
    time_zone_id: str | None = None


class ScheduleItemOut(WixModel):
    id: str
    hidden: bool
    name: str
    time_slot: TimeIntervalOut
    description: str
    stage_name: str
    tags: list[str]
    status: str
    created_date: str
    updated_date: str
    event_id: str
    draft: bool


class ItemResponse(WixModel):
    item: ScheduleItemOut


class GetScheduleItemResponse(WixModel):
    item: ScheduleItemOut | None = None
    draft: ScheduleItemOut | None = None


class FacetCounts(WixModel):
    counts: dict[str, int]


class ListScheduleItemsResponse(WixModel):
    total: int
    limit: int
    offset: int
    items: list[ScheduleItemOut]
    facets: dict[str, FacetCounts]
    draft_not_published: bool | None = None
    paging_metadata: PagingMetadata


class QueryScheduleItemsResponse(WixModel):
    items: list[ScheduleItemOut]
    paging_metadata: PagingMetadata


class EmptyResponse(WixModel):
    pass




class StateFilter(str, Enum):
    PUBLISHED = "PUBLISHED"
    DRAFT = "DRAFT"
    VISIBLE = "VISIBLE"
    HIDDEN = "HIDDEN"


class ListPaging(WixModel):
    limit: int | None = Field(None, ge=0)
    offset: int | None = Field(None, ge=0, le=limits.MAX_OFFSET)


class ListScheduleItemsParams(WixModel):
    """List Schedule Items' GET parameters (repeated keys already made lists)."""

    event_id: list[Id] | None = Field(None, max_length=100)
    state: list[StateFilter] | None = Field(None, max_length=20)
    starting_from: WixDateTime | None = None
    starting_before: WixDateTime | None = None
    offset: int | None = Field(None, ge=0, le=1000)
    limit: int | None = Field(None, ge=0)
    facet: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(None, max_length=20)
    item_id: list[Id] | None = Field(None, max_length=100)
    tag: list[Annotated[str, Field(min_length=1, max_length=TAG_MAX)]] | None = Field(None, max_length=50)
    stage_name: list[Annotated[str, Field(max_length=STAGE_NAME_MAX)]] | None = Field(None, max_length=50)
    paging: ListPaging | None = None
