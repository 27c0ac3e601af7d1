"""Wix's Reorder rule, one home for every slice that has one (ticket definitions,
policies, category events): move one item before or after another of the same list;
if both are given the `after` wins (Wix: "only the last one defined will be executed");
positions become 0..n-1."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from .errors import WixError


class InvalidReorder(WixError):
    status, code = 400, "INVALID_REORDER_INSTRUCTION"


class Ordered(Protocol):
    sort_index: int


T = TypeVar("T", bound=Ordered)


def move(
    items: list[T],
    key: Callable[[T], str],
    moving_id: str,
    before: str | None,
    after: str | None,
    *,
    missing: Callable[[], WixError],
    names: tuple[str, str, str],
) -> list[T]:
    """``items`` in their current order; returns the new order, ``sort_index`` set.

    ``missing()`` is raised when ``moving_id`` is not in ``items``; ``names`` are (the
    before field, the after field, what the reference must be), for the 400s."""
    ref, place_after = (after, True) if after else (before, False)
    if not ref:
        raise InvalidReorder(f"Give {names[0]} or {names[1]}")
    by_id = {key(x): x for x in items}
    moving = by_id.get(moving_id)
    if moving is None:
        raise missing()
    if ref not in by_id or ref == moving_id:
        raise InvalidReorder(f"Reference {ref} is not {names[2]}")
    order = [x for x in items if key(x) != moving_id]
    i = next(i for i, x in enumerate(order) if key(x) == ref)
    order.insert(i + 1 if place_after else i, moving)
    for n, x in enumerate(order):
        if x.sort_index != n:
            x.sort_index = n
    return order
