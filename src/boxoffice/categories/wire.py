"""Categories on the wire (`@wix/auto_sdk_events_categories`). Presentation only."""

from __future__ import annotations

from typing import Any

from ..events import wire as events_wire
from ..events.models import Event
from ..timefmt import iso
from .models import Category


def to_wire(c: Category, counts: tuple[int, int | None] | None = None) -> dict[str, Any]:
    """``counts``: (published, draft) assigned events; draft is None when the caller may
    not see drafts (it is then left out)."""
    out: dict[str, Any] = {"id": c.id, "name": c.name, "createdDate": iso(c.created_date), "states": c.states}
    if counts is not None:
        published, drafts = counts
        out["counts"] = {"assignedEventsCount": published}
        if drafts is not None:
            out["counts"]["assignedDraftEventsCount"] = drafts
    return out


def item_result(index: int, item_id: str | None, item: dict[str, Any] | None, error: dict[str, Any] | None) -> dict[str, Any]:
    """One BulkCategoryResult."""
    meta: dict[str, Any] = {"originalIndex": index, "success": error is None}
    if item_id is not None:
        meta["id"] = item_id
    if error is not None:
        meta["error"] = error
    out: dict[str, Any] = {"itemMetadata": meta}
    if item is not None:
        out["item"] = item
    return out


def bulk(results: list[dict[str, Any]]) -> dict[str, Any]:
    ok = sum(1 for r in results if r["itemMetadata"]["success"])
    return {
        "results": results,
        "bulkActionMetadata": {"totalSuccesses": ok, "totalFailures": len(results) - ok, "undetailedFailures": 0},
    }


def events(rows: list[Event], fields: list[str] | None) -> list[dict[str, Any]]:
    """A category's events as Events v3 presents them (List Events By Category)."""
    return [events_wire.to_wire(e, fields) for e in rows]
