"""How an order that costs money gets paid: online payment providers behind one interface.

Checkout decides the kind of payment by Wix's rules (a free order, pay in person, a
manager's markAsPaid, or online); only the online kind needs a provider. Providers
know nothing of orders: they are asked to collect a :class:`Charge` and answer with a
:class:`Started` payment; the provider's callback (its webhook, or the `test`
provider's pay/decline endpoint) then tells the orders slice the outcome, through
``orders.service.payment_succeeded`` / ``payment_declined``.

Which providers exist is configuration: the app factory builds :class:`Payments` from
the settings. The `test` simulator is there only when ``BOXOFFICE_TEST_PAYMENTS=1``
(`make run`, the tests and the conformance suite set it); without an online provider,
an order that must be paid online is refused with 428 PAYMENT_PROVIDER_NOT_CONFIGURED.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Charge:
    """What a buyer owes for one order."""

    order_number: str
    amount_cents: int
    currency: str


@dataclass(frozen=True)
class Started:
    """An online payment that has begun: its id at the provider, and what the buyer needs
    to complete it (a client secret, a redirect URL), for the checkout response."""

    payment_id: str
    buyer_action: dict[str, Any] = field(default_factory=dict)


class OnlineProvider(Protocol):
    name: str

    def start(self, charge: Charge) -> Started:
        """Begin collecting ``charge``; the order stays PENDING (seats held) until the
        provider reports the outcome."""
        ...


class TestProvider:
    """A simulator for development and CI: nothing is collected; the order is paid or
    declined by ``POST /boxoffice/v1/test-payments/{orderNumber}/pay|decline``."""

    name = "test"

    def start(self, charge: Charge) -> Started:
        return Started(payment_id=str(uuid.uuid4()))


@dataclass(frozen=True)
class Payments:
    """The providers this deployment has: at most one online provider for now."""

    online: OnlineProvider | None = None

    @classmethod
    def from_settings(cls, test_payments: bool) -> Payments:
        return cls(online=TestProvider() if test_payments else None)
