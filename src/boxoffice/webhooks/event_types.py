"""Every webhook event type Boxoffice sends: what a subscription may ask for.

A domain event's type is ``<entityFqdn>_<slug>`` (``outbox.record``); a legacy one's is
``<prefix>.<Name>`` (``outbox.record_legacy``). The slices write them; this module only
names them, so that ``boxoffice webhooks add --events`` and ``POST
/boxoffice/v1/webhooks`` refuse a type that would never arrive (a typo used to subscribe
to nothing, silently). ``*`` is every type. tests/test_operator_cli.py checks this list
against the SDK handlers the conformance suite dispatches to, and against what the code
writes to the outbox.
"""

from __future__ import annotations

from collections.abc import Iterable

ALL = "*"

_DOMAIN: dict[str, tuple[str, ...]] = {
    # events/service.py (started, ended, reminder: the scheduler)
    "wix.events.v3.event": (
        "created", "updated", "published", "deleted", "canceled", "cloned", "reminder", "started", "ended",
    ),
    # ticket_definitions/service.py (sale_started, sale_ended: the scheduler)
    "wix.events.v3.ticket_definition": (
        "created", "updated", "deleted", "sale_started", "sale_ended", "sale_period_updated",
    ),
    "wix.events.v2.policy": ("created", "updated", "deleted"),  # policies/service.py
    "wix.events.staffmembers.v1.staff_member": ("created", "updated", "deleted"),  # staff_members/service.py
    "wix.events.v1.ticket_reservation": ("created", "updated", "deleted"),  # reservations/service.py
    # guests/service.py
    "wix.events.guests.v1.guest": (
        "created", "updated", "deleted", "guest_checked_in", "guest_order_canceled", "guest_event_canceled",
        "guest_event_starts",
    ),
}

_LEGACY: dict[str, tuple[str, ...]] = {
    # orders/service.py (OrderUpdated is also the tickets module's onTicketOrderUpdated);
    # ticket_definitions_v1/service.py
    "wix.events.ticketing.events": (
        "OrderInitiated", "OrderConfirmed", "OrderUpdated",
        "TicketDefinitionCreated", "TicketDefinitionUpdated", "TicketDefinitionDeleted",
    ),
    "wix.events.events": ("EventUpdated",),  # forms/service.py (the form changed)
}

EVENT_TYPES: tuple[str, ...] = tuple(
    [f"{fqdn}_{slug}" for fqdn, slugs in _DOMAIN.items() for slug in slugs]
    + [f"{prefix}.{name}" for prefix, names in _LEGACY.items() for name in names]
)
KNOWN = frozenset(EVENT_TYPES)


class UnknownEventType(ValueError):
    def __init__(self, unknown: list[str]) -> None:
        self.unknown = unknown
        names = ", ".join(repr(t[:120]) for t in unknown)
        super().__init__(
            f"unknown event type{'s' if len(unknown) > 1 else ''} {names}; valid: {ALL!r} (every type) or "
            + ", ".join(sorted(EVENT_TYPES))
        )


def check(types: Iterable[str]) -> list[str]:
    """The subscription's types, stripped, without blanks or repeats (``["*"]`` when
    none are left); raises :class:`UnknownEventType` naming each type Boxoffice does not
    send and listing the valid ones."""
    out = list(dict.fromkeys(t.strip() for t in types if t and t.strip()))
    unknown = [t for t in out if t != ALL and t not in KNOWN]
    if unknown:
        raise UnknownEventType(unknown[:10])
    return out or [ALL]
