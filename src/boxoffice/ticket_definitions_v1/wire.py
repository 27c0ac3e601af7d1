"""Ticket Definitions v1 (legacy) on the wire, over the v3 store. Presentation and shape
translation only: a v3 row -> the v1 ``TicketDefinition``; a v1 ``TicketDefinitionData`` ->
the v3 ``ticketDefinition`` body (and a v1 field mask -> the v3 one); a v3 error's field
path -> the v1 field the caller sent; the legacy webhooks' data.

How the v1 fields sit on the v3 row (no column of its own is needed):

| v1 | v3 row |
|---|---|
| ``price`` | the fixed price, the guest (minimum) price, or the lowest price option |
| ``pricing.fixedPrice`` / ``minPrice`` / ``pricingOptions.options[{id}]`` | ``pricingMethod.fixedPrice`` / ``guestPrice`` / ``pricingOptions.optionDetails[{optionId}]`` |
| ``limited`` + ``quantity``; ``dashboard.quantity`` | ``initialLimit`` (None: unlimited); ``actualLimit`` |
| ``orderIndex`` | ``sort_index``, the order Reorder Ticket Definitions sets |
| ``policy`` | ``policyText`` |
| ``wixFeeConfig.type`` FEE_INCLUDED / FEE_ADDED_AT_CHECKOUT / FEE_ADDED | ``feeType`` FEE_INCLUDED / FEE_ADDED_AT_CHECKOUT / FEE_ADDED_AT_CHECKOUT (the typings give FEE_ADDED and FEE_ADDED_AT_CHECKOUT one meaning, "added to the ticket price at checkout") |
| (read) ``wixFeeConfig.type`` of a v3 ``NO_FEE`` (free tickets only) | FEE_INCLUDED: v1 has no NO_FEE, and nothing is added to a free ticket |
| ``salePeriod.hideNotOnSale`` | ``not salePeriod.displayNotOnSale`` |
| ``dashboard.ticketsSold`` / ``ticketsReserved`` / ``sold`` / ``unsold`` | ``salesDetails.soldCount`` / ``reservedCount`` / their sum / ``unsoldCount`` (held seats past their expiry read as free, as in v3) |
| ``limitPerCheckout`` | v3's, capped at the typings' 20 |
| ``state`` | ``["INCLUDE_HIDDEN_NOT_ON_SALE"]`` when hidden or not on sale (as List Available Tickets shows it) |
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from ..money import legacy_money
from ..ticket_definitions.inventory import limit_per_checkout, sale_status, unsold
from ..timefmt import iso
from .schemas import FeeType, Fieldset, MoneyIn, TicketDefinitionData

POLICY, DASHBOARD = Fieldset.POLICY.value, Fieldset.DASHBOARD.value
# The legacy typings: limitPerCheckout @max 20 ("Set to 20 for unlimited ticket definition").
MAX_LIMIT_PER_CHECKOUT = 20
INCLUDE_HIDDEN_NOT_ON_SALE = "INCLUDE_HIDDEN_NOT_ON_SALE"


# --- v3 row -> v1 TicketDefinition ---------------------------------------------------


def fee_type_out(v3: str) -> str:
    return FeeType.FEE_INCLUDED.value if v3 == "NO_FEE" else v3


def fee_type_in(v1: FeeType | None) -> str | None:
    if v1 is None:
        return None
    return "FEE_ADDED_AT_CHECKOUT" if v1 is FeeType.FEE_ADDED else v1.value


def _pricing(td: Any) -> tuple[int, dict[str, Any]]:
    """(the legacy ``price`` in cents, ``pricing``)."""
    if td.fixed_price_cents is not None:
        return td.fixed_price_cents, {"fixedPrice": legacy_money(td.fixed_price_cents, td.currency)}
    if td.guest_price_cents is not None:
        return td.guest_price_cents, {"minPrice": legacy_money(td.guest_price_cents, td.currency)}
    opts = td.price_options or []
    options = [{"id": o["optionId"], "name": o["name"], "price": legacy_money(o["cents"], td.currency)} for o in opts]
    return min((o["cents"] for o in opts), default=0), {"pricingOptions": {"options": options}}


def to_wire(td: Any, fieldsets: Iterable[str], t: dt.datetime, overdue: int = 0) -> dict[str, Any]:
    """A v3 row (ORM or Core) as the v1 ``TicketDefinition``. ``overdue``: seats of
    reservations past their expiry the counters still hold (they read as free)."""
    wanted = frozenset(fieldsets)
    cents, pricing = _pricing(td)
    pricing["pricingType"] = td.pricing_type
    left = unsold(td, overdue)
    status = sale_status(td, t)
    period: dict[str, Any] = {}
    if td.sale_start is not None:
        period["startDate"] = iso(td.sale_start)
    if td.sale_end is not None:
        period["endDate"] = iso(td.sale_end)
    period["hideNotOnSale"] = not td.display_not_on_sale
    out: dict[str, Any] = {
        "id": td.id,
        "price": legacy_money(cents, td.currency),
        "free": td.free,
        "name": td.name,
        "description": td.description or "",
        "limitPerCheckout": min(limit_per_checkout(left), MAX_LIMIT_PER_CHECKOUT),
        "orderIndex": td.sort_index,
        "eventId": td.event_id,
        "wixFeeConfig": {"type": fee_type_out(td.fee_type)},
        "salePeriod": period,
        "saleStatus": str(status),
        "state": [INCLUDE_HIDDEN_NOT_ON_SALE] if td.hidden or status != "SALE_STARTED" else [],
        "pricing": pricing,
    }
    if POLICY in wanted:
        out["policy"] = td.policy_text or ""
    if DASHBOARD in wanted:
        reserved = td.reserved_count - overdue
        out["dashboard"] = {
            "hidden": td.hidden,
            "sold": td.sold_count + reserved,
            "limited": td.limited,
            "quantity": td.actual_limit if td.limited else None,
            "unsold": left,
            "ticketsSold": td.sold_count,
            "ticketsReserved": reserved,
        }
    return out


def event_data(td: Any) -> dict[str, Any]:
    """The data of the legacy TicketDefinitionCreated / Updated / Deleted webhooks (the
    outbox adds ``timestamp`` and an ``id`` to drop duplicates by)."""
    return {"ticketDefinitionId": td.id, "eventId": td.event_id}


# --- v1 request -> v3 request -----------------------------------------------------------

# Each v1 field path a PATCH changes (after :func:`normalize`), and the v3 paths it
# changes (orderIndex is v1's own: the adapter sets the sort index itself).
V1_PATHS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "description": ("description",),
    "policy": ("policyText",),
    "hidden": ("hidden",),
    "limited": ("initialLimit",),
    "quantity": ("initialLimit",),
    "price": ("pricingMethod",),
    "pricing": ("pricingMethod",),
    "wixFeeConfig": ("feeType",),
    "salePeriod.startDate": ("salePeriod.startDate",),
    "salePeriod.endDate": ("salePeriod.endDate",),
    "salePeriod.hideNotOnSale": ("salePeriod.displayNotOnSale",),
    "orderIndex": (),
}
# What else a mask may name, and the path it stands for.
_ALIASES = {
    "wixFeeConfig.type": "wixFeeConfig",
    "pricing.fixedPrice": "pricing",
    "pricing.minPrice": "pricing",
    "pricing.pricingOptions": "pricing",
    "pricing.pricingOptions.options": "pricing",
}


def normalize(paths: Iterable[str], d: TicketDefinitionData) -> set[str] | str:
    """A v1 field mask (or the sent fields) as :data:`V1_PATHS` keys; or the first path
    that names no v1 field. ``salePeriod`` stands for its dates, and for ``hideNotOnSale``
    only when that is given (else the flag keeps its value)."""
    out: set[str] = set()
    for raw in paths:
        p = raw[len("definition."):] if raw.startswith("definition.") else raw
        p = _ALIASES.get(p, p)
        if p == "salePeriod":
            out |= {"salePeriod.startDate", "salePeriod.endDate"}
            if d.sale_period is not None and d.sale_period.hide_not_on_sale is not None:
                out.add("salePeriod.hideNotOnSale")
        elif p in V1_PATHS:
            out.add(p)
        else:
            return raw
    return out


def sent_paths(d: TicketDefinitionData) -> set[str]:
    """The v1 paths a PATCH without a mask changes: the fields it carries (a sale period's
    parts one by one, so that sending only its end leaves its start)."""
    out: set[str] = set()
    for py in d.model_fields_set:
        name = TicketDefinitionData.model_fields[py].alias or py
        if name == "salePeriod" and d.sale_period is not None:
            out |= {"salePeriod." + (type(d.sale_period).model_fields[p].alias or p) for p in d.sale_period.model_fields_set}
        else:
            out.add(name)
    return out


def v3_mask(paths: Iterable[str]) -> list[str]:
    return sorted({v3 for p in paths for v3 in V1_PATHS[p]})


def _money(m: MoneyIn | None, currency: str | None) -> dict[str, Any] | None:
    if m is None:
        return None
    return {"value": m.value if m.value is not None else m.amount, "currency": m.currency or currency}


def pricing_method(d: TicketDefinitionData, currency: str | None) -> tuple[dict[str, Any] | None, str]:
    """v3 ``pricingMethod`` from ``pricing`` (or, without it, the legacy ``price`` as a
    fixed price), and which of the two it came from (for naming errors). A price without a
    currency is in the event's ``currency``."""
    p = d.pricing
    if p is None and d.price is not None:
        return {"fixedPrice": _money(d.price, currency)}, "price"
    if p is None:
        return None, "pricing"
    pm: dict[str, Any] = {}
    if p.fixed_price is not None:
        pm["fixedPrice"] = _money(p.fixed_price, currency)
    if p.min_price is not None:
        pm["guestPrice"] = _money(p.min_price, currency)
    if p.pricing_options is not None:
        pm["pricingOptions"] = {
            "optionDetails": [
                {"optionId": o.id, "name": o.name, "price": _money(o.price, currency)}
                for o in p.pricing_options.options or []
            ]
        }
    return pm, "pricing"


def initial_limit(d: TicketDefinitionData, paths: set[str], current: int | None) -> tuple[int | None, str | None]:
    """v3 ``initialLimit`` from ``limited`` and ``quantity`` (those of ``paths``):
    ``limited: false`` is unlimited; else ``quantity`` is the limit (null: unlimited);
    ``limited: true`` alone keeps the ``current`` limit. Second: the v1 field that is
    missing, if any."""
    limited = d.limited if "limited" in paths else None
    if limited is False:
        return None, None
    if "quantity" in paths:
        if d.quantity is None and limited:
            return None, "quantity"
        return d.quantity, None
    if limited and current is None:
        return None, "quantity"
    return current, None


def v3_definition(
    d: TicketDefinitionData, paths: set[str], currency: str | None, current_limit: int | None
) -> tuple[dict[str, Any], str, str | None]:
    """The v3 ``ticketDefinition`` body for the v1 ``paths`` of ``d``; the pricing field
    used; and a required v1 field that is missing (or None)."""
    body: dict[str, Any] = {}
    if "name" in paths:
        body["name"] = d.name
    if "description" in paths:
        body["description"] = d.description
    if "policy" in paths:
        body["policyText"] = d.policy
    if "hidden" in paths:
        body["hidden"] = d.hidden
    priced_by = "pricing"
    if paths & {"price", "pricing"}:
        body["pricingMethod"], priced_by = pricing_method(d, currency)
    if "wixFeeConfig" in paths:
        body["feeType"] = fee_type_in(d.wix_fee_config.type if d.wix_fee_config else None)
    missing = None
    if paths & {"limited", "quantity"}:
        body["initialLimit"], missing = initial_limit(d, paths, current_limit)
    sp = d.sale_period
    period: dict[str, Any] = {}
    if "salePeriod.startDate" in paths:
        period["startDate"] = iso(sp.start_date) if sp and sp.start_date else None
    if "salePeriod.endDate" in paths:
        period["endDate"] = iso(sp.end_date) if sp and sp.end_date else None
    if "salePeriod.hideNotOnSale" in paths:
        period["displayNotOnSale"] = not (sp and sp.hide_not_on_sale)
    if period:
        body["salePeriod"] = period
    return body, priced_by, missing


# --- v3 error paths -> v1 -------------------------------------------------------------


def _renames(priced_by: str) -> list[tuple[str, str]]:
    pm = "definition.price" if priced_by == "price" else "definition.pricing"
    return [
        ("ticketDefinition.pricingMethod.fixedPrice", pm if priced_by == "price" else "definition.pricing.fixedPrice"),
        ("ticketDefinition.pricingMethod.guestPrice", "definition.pricing.minPrice"),
        ("ticketDefinition.pricingMethod.pricingOptions.optionDetails", "definition.pricing.pricingOptions.options"),
        ("ticketDefinition.pricingMethod.pricingOptions", "definition.pricing.pricingOptions"),
        ("ticketDefinition.pricingMethod", pm),
        ("ticketDefinition.feeType", "definition.wixFeeConfig.type"),
        ("ticketDefinition.initialLimit", "definition.quantity"),
        ("ticketDefinition.policyText", "definition.policy"),
        ("ticketDefinition.salePeriod.displayNotOnSale", "definition.salePeriod.hideNotOnSale"),
        ("ticketDefinition.eventId", "eventId"),
        ("ticketDefinition", "definition"),
    ]


def v1_field(path: str, priced_by: str) -> str:
    """The v1 name of a v3 request path, e.g. ``ticketDefinition.pricingMethod.guestPrice.value``
    -> ``definition.pricing.minPrice.value``; other paths unchanged."""
    for v3, v1 in _renames(priced_by):
        if path == v3 or path.startswith((v3 + ".", v3 + "[")):
            return v1 + path[len(v3):]
    return path
