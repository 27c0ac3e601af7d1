"""How an order that costs money gets paid: online payment providers behind one interface.

Checkout decides the kind of payment by Wix's rules (a free order, pay in person, a
manager's markAsPaid, or online); only the online kind needs a provider. Providers
know nothing of orders: they are asked to collect a :class:`Charge` and answer with a
:class:`Started` payment; the provider's callback (its webhook, or the `test`
provider's pay/decline endpoint) then tells the orders slice the outcome, through
``orders.service.payment_outcome`` (the `test` provider) or
``orders.service.payment_reported`` (a provider's signed webhook, a
:class:`PaymentReport`).

Which providers exist is configuration: the app factory builds :class:`Payments` from
the settings. ``stripe`` (:mod:`.stripe_provider`) when ``BOXOFFICE_STRIPE_SECRET_KEY``
is set; otherwise the `test` simulator when ``BOXOFFICE_TEST_PAYMENTS=1`` (`make run`,
the tests and the conformance suite set it). When both are set Stripe wins: a real key
is the stronger intent, and a forgotten development flag must never make a production
deployment hand out unpaid tickets. Without an online provider, an order that must be
paid online is refused with 428 PAYMENT_PROVIDER_NOT_CONFIGURED.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import FailedPrecondition

if TYPE_CHECKING:
    from ..config import Settings
    from .stripe_provider import StripeProvider


@dataclass(frozen=True)
class Charge:
    """What a buyer owes for one order."""

    order_number: str
    amount_cents: int
    currency: str
    site_id: str = ""


@dataclass(frozen=True)
class PaymentReport:
    """What a provider's verified callback says of one payment: it succeeded or failed.
    ``amount_cents`` is back in Boxoffice's hundredths (``money.py``), whatever the
    provider's minor unit."""

    provider: str
    event_id: str
    site_id: str
    order_number: str
    payment_id: str
    succeeded: bool
    amount_cents: int
    currency: str
    # "paid" / "failed", or with manual capture "authorized" (the money is held, to be
    # captured) and "canceled" (the authorization was let go, or expired)
    outcome: str = ""

    def __post_init__(self) -> None:
        if not self.outcome:
            object.__setattr__(self, "outcome", "paid" if self.succeeded else "failed")


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

    def refund(self, payment_id: str, reason: str) -> str:
        """Give a payment back in full, at most once; the provider's refund id.
        ``errors.Unavailable`` when it cannot be made now (it is tried again later)."""
        ...

    def cancel(self, payment_id: str) -> None:
        """Best effort: a payment not yet made can no longer be made."""
        ...

    def capture(self, payment_id: str) -> None:
        """Take an authorized payment (manual capture); ``errors.Unavailable`` or
        ``FailedPrecondition`` when it cannot be taken."""
        ...

    def void(self, payment_id: str) -> None:
        """Let an authorized payment go; raises as ``capture`` does."""
        ...


class TestProvider:
    """A simulator for development and CI: nothing is collected; the order is paid or
    declined by ``POST /boxoffice/v1/test-payments/{orderNumber}/pay|decline``."""

    name = "test"

    def start(self, charge: Charge) -> Started:
        return Started(payment_id=str(uuid.uuid4()))

    def refund(self, payment_id: str, reason: str) -> str:
        """Nothing was collected, so nothing is given back: the refund is recorded made."""
        return f"test-refund-{payment_id}"

    def cancel(self, payment_id: str) -> None:
        return None

    def capture(self, payment_id: str) -> None:  # the simulator never authorizes: nothing reaches here
        raise FailedPrecondition("The test provider takes payments at once", code="ORDER_ACTION_NOT_AVAILABLE")

    def void(self, payment_id: str) -> None:
        raise FailedPrecondition("The test provider takes payments at once", code="ORDER_ACTION_NOT_AVAILABLE")


@dataclass(frozen=True)
class Payments:
    """The providers this deployment has: at most one online provider for now."""

    online: OnlineProvider | None = None

    def provider(self, name: str) -> OnlineProvider | None:
        """The provider that took a payment (``Order.payment_provider``), if configured here."""
        return self.online if self.online is not None and self.online.name == name else None

    @property
    def stripe(self) -> StripeProvider | None:
        from .stripe_provider import StripeProvider

        return self.online if isinstance(self.online, StripeProvider) else None

    @classmethod
    def from_settings(cls, settings: Settings) -> Payments:
        key = settings.stripe_secret_key.get_secret_value()
        if key:
            from .stripe_provider import StripeProvider

            return cls(
                online=StripeProvider(
                    key, settings.stripe_webhook_secret.get_secret_value(), settings.stripe_api_base,
                    capture=settings.stripe_capture,
                )
            )
        return cls(online=TestProvider() if settings.test_payments else None)
