"""Ticket Definitions v3 on the wire (`@wix/auto_sdk_events_ticket-definitions-v-2`) and the
entity their domain events carry. Presentation only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from ..db import now
from ..events import wire as events_wire
from ..events.models import Event
from ..money import money
from ..timefmt import iso
from .inventory import limit_per_checkout, sale_status, sold_out, unsold
from .models import TicketDefinition as TD
from .schemas import Fieldset

SALES_DETAILS, EVENT_DETAILS = Fieldset.SALES_DETAILS.value, Fieldset.EVENT_DETAILS.value


def to_wire(
    td: Any,
    fields: Iterable[str] | None = None,
    t: dt.datetime | None = None,
    event: Event | None = None,
    overdue: int = 0,
) -> dict[str, Any]:
    t = t or now()
    fields = fields or ()
    pm: dict[str, Any] = {}
    if td.fixed_price_cents is not None:
        pm["fixedPrice"] = money(td.fixed_price_cents, td.currency)
    elif td.guest_price_cents is not None:
        pm["guestPrice"] = money(td.guest_price_cents, td.currency)
    else:
        pm["pricingOptions"] = {
            "optionDetails": [
                {"optionId": o["optionId"], "name": o["name"], "price": money(o["cents"], td.currency)}
                for o in td.price_options or []
            ]
        }
    pm["pricingType"] = td.pricing_type
    pm["free"] = td.free
    left = unsold(td, overdue)
    out: dict[str, Any] = {
        "id": td.id,
        "eventId": td.event_id,
        "revision": str(td.revision),
        "createdDate": iso(td.created_date),
        "updatedDate": iso(td.updated_date),
        "name": td.name,
    }
    if td.description is not None:
        out["description"] = td.description
    if td.policy_text is not None:
        out["policyText"] = td.policy_text
    out.update(
        {
            "hidden": td.hidden,
            "limited": td.limited,
            "initialLimit": td.initial_limit,
            "actualLimit": td.actual_limit,
            "pricingMethod": pm,
            "feeType": td.fee_type,
        }
    )
    sp: dict[str, Any] = {"displayNotOnSale": td.display_not_on_sale}
    if td.sale_start is not None:
        sp["startDate"] = iso(td.sale_start)
    if td.sale_end is not None:
        sp["endDate"] = iso(td.sale_end)
    out["salePeriod"] = sp
    out["saleStatus"] = sale_status(td, t)
    if SALES_DETAILS in fields:
        out["salesDetails"] = {
            "unsoldCount": left,
            "soldCount": td.sold_count,
            "reservedCount": td.reserved_count - overdue,
            "soldOut": sold_out(left),
        }
    out["limitPerCheckout"] = limit_per_checkout(left)
    if td.extended_fields:
        out["extendedFields"] = td.extended_fields
    if EVENT_DETAILS in fields and event is not None:
        ev = events_wire.to_wire(event, [events_wire.EventField.DETAILS.value], t)
        out["eventDetails"] = {
            k: ev[k] for k in ("title", "shortDescription", "location", "dateAndTimeSettings", "status") if k in ev
        }
    return out


def entity(td: TD) -> dict[str, Any]:
    """The definition as webhooks carry it (no sales details, as in Wix's examples)."""
    return to_wire(td)
