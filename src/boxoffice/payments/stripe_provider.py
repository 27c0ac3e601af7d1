"""Card payments through Stripe, with the official ``stripe`` library.

* Checkout creates a PaymentIntent for the order's total in the order's currency (in
  Stripe's minor unit for that currency, :func:`to_stripe_amount`), with
  ``metadata.boxoffice_site`` / ``metadata.boxoffice_order`` so that its webhook events
  name their order. The buyer gets the PaymentIntent's client secret (for Stripe.js /
  the Payment Element) in the checkout response's ``payment`` field.
* Stripe's webhook (``POST /boxoffice/v1/payments/stripe/webhook``) is verified with
  the endpoint's signing secret (:meth:`StripeProvider.report`): only
  ``payment_intent.succeeded`` and ``payment_intent.payment_failed`` are read.
* A payment that arrives for an order that can no longer be sold (its hold expired) is
  refunded (:meth:`StripeProvider.refund`), outside any database transaction.

Every call to Stripe here is a network call: none is made while the caller holds a
database lock it could avoid, except creating the PaymentIntent at checkout (the order
must carry its id). A checkout unit that is rolled back or rerun leaves a PaymentIntent
that nobody has the client secret of: never confirmed, it collects nothing.
"""

from __future__ import annotations

import logging
from typing import Any

import stripe

from ..errors import FailedPrecondition, InvalidArgument, Unavailable
from . import Charge, PaymentReport, Started

log = logging.getLogger(__name__)

# Stripe's minor units where they are not hundredths (https://docs.stripe.com/currencies,
# "Zero-decimal" and "Three-decimal currencies"). Written out because it is Stripe's
# rule, not ISO 4217's: ISK, HUF and TWD are two-decimal to Stripe (ISO says 0 for ISK).
ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})

# The events read, and what each says of the payment (PaymentReport.outcome).
EVENTS = {
    "payment_intent.succeeded": "paid",
    "payment_intent.payment_failed": "failed",
    "payment_intent.amount_capturable_updated": "authorized",  # manual capture: the money is held
    "payment_intent.canceled": "canceled",
}


def to_stripe_amount(cents: int, currency: str) -> int:
    """Boxoffice keeps every amount in hundredths of the unit (``money.py``): JPY 200 is
    20000 here and 200 to Stripe; BHD 1.50 is 150 here and 1500 to Stripe."""
    c = currency.upper()
    if c in ZERO_DECIMAL:
        if cents % 100:
            raise FailedPrecondition(
                f"{c} has no minor unit: an order total of {cents / 100:.2f} {c} cannot be paid by card",
                code="AMOUNT_NOT_PAYABLE",
            )
        return cents // 100
    if c in THREE_DECIMAL:
        return cents * 10
    return cents


def from_stripe_amount(amount: int, currency: str) -> int:
    c = currency.upper()
    if c in ZERO_DECIMAL:
        return amount * 100
    if c in THREE_DECIMAL:
        return amount // 10 if amount % 10 == 0 else -1  # -1: never equal to an order's total
    return amount


class BadSignature(InvalidArgument):
    """The request does not carry a valid Stripe-Signature for our endpoint secret."""

    def __init__(self) -> None:
        # never the header or the secret in the message: both are credentials of a kind
        super().__init__("Stripe-Signature", "does not verify with this endpoint's signing secret")


class StripeProvider:
    name = "stripe"

    def __init__(
        self, secret_key: str, webhook_secret: str, api_base: str = "https://api.stripe.com", capture: str = "automatic"
    ) -> None:
        self._webhook_secret = webhook_secret
        self.capture_method = capture
        # A client of its own (not the library's global stripe.api_key): the settings of
        # this app only. No automatic retries (a create is not retried blind), and 10 s
        # at most a call, not the library's 80: checkout waits for the PaymentIntent in
        # its unit of work.
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base.rstrip("/")},
            max_network_retries=0,
            http_client=stripe.new_default_http_client(timeout=10),
        )

    def start(self, charge: Charge) -> Started:
        """A PaymentIntent for the whole order, automatic capture. Only the parameters
        every Stripe API version (and localstripe) takes: Stripe's default payment
        methods for the account apply (Dashboard settings)."""
        try:
            params: Any = {
                "amount": to_stripe_amount(charge.amount_cents, charge.currency),
                "currency": charge.currency.lower(),
                "metadata": {"boxoffice_site": charge.site_id, "boxoffice_order": charge.order_number},
            }
            if self.capture_method == "manual":
                params["capture_method"] = "manual"  # authorized at checkout, taken by Capture Authorized Payment
            pi = self._client.v1.payment_intents.create(params=params)
        except stripe.StripeError as e:
            log.warning("stripe: creating a PaymentIntent failed: %s", type(e).__name__)
            raise FailedPrecondition(
                "The card payment provider could not be reached; try again", code="PAYMENT_PROVIDER_UNAVAILABLE"
            ) from None
        return Started(
            payment_id=pi.id,
            buyer_action={"provider": self.name, "paymentIntentId": pi.id, "clientSecret": pi.client_secret},
        )

    def report(self, payload: bytes, signature: str | None) -> PaymentReport | None:
        """Verify a webhook request (``stripe.Webhook.construct_event``: HMAC-SHA256 over
        the timestamp and the raw body, at most 5 minutes old) and read it. None for an
        event that is not about a Boxoffice order's payment (another event type, or a
        PaymentIntent without our metadata): answered 2xx so Stripe does not resend it."""
        if not self._webhook_secret:
            raise BadSignature()
        try:
            event = stripe.Webhook.construct_event(payload, signature, self._webhook_secret)
        except (stripe.SignatureVerificationError, ValueError):
            raise BadSignature() from None
        outcome = EVENTS.get(event.type)
        if outcome is None:
            return None
        succeeded = outcome == "paid"
        pi: dict[str, Any] = (event.to_dict().get("data") or {}).get("object") or {}
        meta = pi.get("metadata") or {}
        site, order = meta.get("boxoffice_site"), meta.get("boxoffice_order")
        if not (isinstance(site, str) and isinstance(order, str) and site and order):
            return None
        currency = str(pi.get("currency") or "").upper()
        if succeeded and pi.get("amount_received"):
            amount = pi.get("amount_received")
        elif outcome == "authorized" and pi.get("amount_capturable"):
            amount = pi.get("amount_capturable")
        else:
            amount = pi.get("amount")
        return PaymentReport(
            provider=self.name,
            event_id=str(event.id),
            site_id=site,
            order_number=order,
            payment_id=str(pi.get("id")),
            succeeded=succeeded,
            amount_cents=from_stripe_amount(int(amount or 0), currency),
            currency=currency,
            outcome=outcome,
        )

    def refund(self, payment_id: str, reason: str) -> str:
        """Refund a PaymentIntent in full; returns the refund's id. At most once: a refund
        already made on it (an earlier try whose answer was lost) is answered instead, and
        the request carries an idempotency key as well (localstripe ignores those).
        Stripe unreachable or refusing: 503 Unavailable (the webhook answers it, so Stripe
        sends the event again and the refund is retried)."""
        try:
            done = self._client.v1.refunds.list(params={"payment_intent": payment_id, "limit": 1})
            if done.data:
                return str(done.data[0].id)
            r = self._client.v1.refunds.create(
                params={"payment_intent": payment_id, "metadata": {"boxoffice_reason": reason}},
                options={"idempotency_key": f"boxoffice-refund-{payment_id}"},
            )
        except stripe.StripeError as e:
            log.warning("stripe: refunding %s failed: %s", payment_id, type(e).__name__)
            raise Unavailable("The refund could not be made now; send the event again") from None
        return str(r.id)

    def cancel(self, payment_id: str) -> None:
        """Best effort: a declined order's PaymentIntent can no longer be paid (a late
        success would be refunded anyway)."""
        try:
            self._client.v1.payment_intents.cancel(payment_id)
        except stripe.StripeError as e:
            log.info("stripe: canceling PaymentIntent %s failed: %s", payment_id, type(e).__name__)

    def capture(self, payment_id: str) -> None:
        """Take an authorized PaymentIntent in full (Capture Authorized Payment)."""
        try:
            pi = self._client.v1.payment_intents.retrieve(payment_id)
            if pi.status == "succeeded":
                return  # taken already (an earlier try whose answer was lost)
            self._client.v1.payment_intents.capture(payment_id)
        except stripe.InvalidRequestError as e:
            log.warning("stripe: capturing %s refused: %s", payment_id, type(e).__name__)
            raise FailedPrecondition(
                "Stripe refused to capture this payment (its authorization may have expired)",
                code="PAYMENT_NOT_CAPTURABLE",
            ) from None
        except stripe.StripeError as e:
            log.warning("stripe: capturing %s failed: %s", payment_id, type(e).__name__)
            raise Unavailable("The card payment provider could not be reached; try again") from None

    def void(self, payment_id: str) -> None:
        """Let an authorized PaymentIntent go (Void Authorized Payment): the hold on the
        buyer's card is released and nothing is taken."""
        try:
            pi = self._client.v1.payment_intents.retrieve(payment_id)
            if pi.status == "canceled":
                return
            self._client.v1.payment_intents.cancel(payment_id)
        except stripe.InvalidRequestError as e:
            log.warning("stripe: voiding %s refused: %s", payment_id, type(e).__name__)
            raise FailedPrecondition("Stripe refused to void this payment", code="PAYMENT_NOT_VOIDABLE") from None
        except stripe.StripeError as e:
            log.warning("stripe: voiding %s failed: %s", payment_id, type(e).__name__)
            raise Unavailable("The card payment provider could not be reached; try again") from None
