"""Categories wire shapes (`@wix/auto_sdk_events_categories`), with the SDK's bounds."""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import Field

from .. import limits
from ..schemas import PagingMetadata, QueryV2, WixModel

# Category.name: @minLength 1, @maxLength 30 (typings).
NAME_MAX = 30
# Categories one site may hold (the typings give none; see README "Limits").
MAX_CATEGORIES_PER_SITE = limits.CATEGORIES_PER_SITE
# BulkCreateCategoryRequest.categories: @maxSize 10.
BULK_CREATE_MAX = 10
# AssignEvents/UnassignEvents eventId: @maxSize 100.
EVENTS_PER_CALL_MAX = 100
# Bulk (and by-filter) categoryId: @maxSize 10; Bulk eventId: @maxSize 1.
BULK_CATEGORIES_MAX = 10
BULK_EVENTS_MAX = 1


class State(str, Enum):
    MANUAL = "MANUAL"
    AUTO = "AUTO"
    RECURRING_EVENT = "RECURRING_EVENT"
    HIDDEN = "HIDDEN"


class CategoryFieldset(str, Enum):
    COUNTS = "COUNTS"


class CategoryIn(WixModel):
    id: str | None = None
    name: str | None = Field(None, max_length=NAME_MAX)
    states: list[State] | None = Field(None, max_length=3)


class CreateCategoryRequest(WixModel):
    category: CategoryIn


class BulkCreateCategoryRequest(WixModel):
    categories: list[CategoryIn] = Field(min_length=1, max_length=BULK_CREATE_MAX)


class UpdateCategoryRequest(WixModel):
    category: CategoryIn


class QueryCategoriesRequest(WixModel):
    query: QueryV2 | None = None
    fieldset: list[CategoryFieldset] | None = Field(None, max_length=1)


class AssignEventsRequest(WixModel):
    event_id: list[str] = Field(min_length=1, max_length=EVENTS_PER_CALL_MAX)


class BulkAssignEventsRequest(WixModel):
    category_id: list[str] = Field(min_length=1, max_length=BULK_CATEGORIES_MAX)
    event_id: list[str] = Field(min_length=1, max_length=BULK_EVENTS_MAX)


class ByFilterRequest(WixModel):
    """Bulk Assign / Unassign Events Async: an Events v3 filter."""

    category_id: list[str] = Field(min_length=1, max_length=BULK_CATEGORIES_MAX)
    filter: dict[str, Any] | None = None


class ReorderCategoryEventsRequest(WixModel):
    event_id: str | None = None
    before_event_id: str | None = None
    after_event_id: str | None = None


# --- responses ---------------------------------------------------------------------


class CategoryCounts(WixModel):
    assigned_events_count: int | None = None
    assigned_draft_events_count: int | None = None


class CategoryOut(WixModel):
    id: str
    name: str
    created_date: str | None = None
    counts: CategoryCounts | None = None
    states: list[str]


class CategoryResponse(WixModel):
    category: CategoryOut


class QueryCategoriesResponse(WixModel):
    categories: list[CategoryOut]
    meta_data: PagingMetadata


class ListEventCategoriesResponse(WixModel):
    categories: list[CategoryOut]


class AppError(WixModel):
    code: str | None = None
    description: str | None = None
    data: dict[str, Any] | None = None


class ItemMetadata(WixModel):
    id: str | None = None
    original_index: int
    success: bool
    error: AppError | None = None


class BulkCategoryResult(WixModel):
    item_metadata: ItemMetadata
    item: CategoryOut | None = None


class BulkActionMetadata(WixModel):
    total_successes: int
    total_failures: int
    undetailed_failures: int


class BulkCategoryResponse(WixModel):
    results: list[BulkCategoryResult]
    bulk_action_metadata: BulkActionMetadata
