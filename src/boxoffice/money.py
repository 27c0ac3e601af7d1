"""Money on the wire: ISO-4217 currencies and decimal strings, kept as integer cents."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import pycountry

from .errors import InvalidArgument
from .limits import MAX_PRICE_CENTS
from .schemas import Money

# ASCII digits only: ``\d`` would also take Arabic-Indic and other Unicode digits.
_DECIMAL = re.compile(r"^[0-9]+(\.[0-9]+)?$")


def check_currency(code: str, where: str) -> str:
    """ISO-4217 from the real list (pycountry), not a pattern."""
    if not isinstance(code, str) or len(code) != 3 or pycountry.currencies.get(alpha_3=code.upper()) is None:
        raise InvalidArgument(where, f'"{code}" is not an ISO-4217 currency code', "FORMAT")
    return code.upper()


def parse_money(m: Money | None, where: str) -> tuple[int, str]:
    """Decimal string -> (cents, currency). ``"200"`` becomes 20000 and reads back "200.00"."""
    if m is None or m.value is None:
        raise InvalidArgument(f"{where}.value", "is required", "REQUIRED_FIELD")
    if m.currency is None:
        raise InvalidArgument(f"{where}.currency", "is required", "REQUIRED_FIELD")
    value = m.value.strip()
    if not _DECIMAL.match(value):
        raise InvalidArgument(f"{where}.value", "must be a non-negative decimal string such as \"10.50\"", "FORMAT")
    try:
        cents = Decimal(value) * 100
    except InvalidOperation:  # pragma: no cover - the pattern rules it out
        raise InvalidArgument(f"{where}.value", "is not a decimal", "FORMAT") from None
    if cents != cents.to_integral_value():
        raise InvalidArgument(f"{where}.value", "has more than 2 decimal places", "FORMAT")
    if cents > MAX_PRICE_CENTS:
        raise InvalidArgument(f"{where}.value", f"is above the largest price, {money(MAX_PRICE_CENTS, 'XXX')['value']}", "MAX")
    return int(cents), check_currency(m.currency, f"{where}.currency")


def money(cents: int, currency: str) -> dict[str, str]:
    sign, cents = ("-", -cents) if cents < 0 else ("", cents)
    return {"value": f"{sign}{cents // 100}.{cents % 100:02d}", "currency": currency}


def legacy_money(cents: int, currency: str) -> dict[str, str]:
    """Legacy v1 Money carries ``amount`` (which the SDK typings read) and ``value``."""
    sign, c = ("-", -cents) if cents < 0 else ("", cents)
    v = f"{sign}{c // 100}.{c % 100:02d}"
    return {"amount": v, "value": v, "currency": currency}
