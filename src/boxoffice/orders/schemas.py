"""Checkout and Orders wire shapes (`@wix/auto_sdk_events_orders`, legacy v1)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from ..limits import BULK_ORDERS_MAX, MAX_OFFSET
from ..schemas import StrictInt, WixModel


class InputValue(WixModel):
    input_name: str = Field(max_length=100)
    value: str | None = Field(None, max_length=5000)
    values: list[Annotated[str, Field(max_length=5000)]] | None = Field(None, max_length=100)

    @model_validator(mode="after")
    def _one_of(self) -> InputValue:
        # one answer, one place: checked and stored must be the same value
        if self.value is not None and self.values:
            raise ValueError("give value or values, not both")
        return self


class FormResponse(WixModel):
    input_values: list[InputValue] | None = Field(None, max_length=200)


class Guest(WixModel):
    form: FormResponse


class Buyer(WixModel):
    first_name: str | None = Field(None, min_length=1, max_length=50)
    last_name: str | None = Field(None, min_length=1, max_length=50)
    email: str | None = Field(None, min_length=5, max_length=255)


class CheckoutOptions(WixModel):
    silent: bool | None = None
    pay_in_person: bool | None = None
    ignore_form_validation: bool | None = None
    mark_as_paid: bool | None = None


class CheckoutRequest(WixModel):
    event_id: str = Field(max_length=100)
    reservation_id: str | None = Field(None, max_length=100)
    member_id: str | None = Field(None, max_length=100)
    buyer: Buyer | None = None
    guests: list[Guest] | None = Field(None, min_length=1, max_length=50)
    options: CheckoutOptions | None = None
    marketing_consent: bool | None = None


class ConfirmOrderRequest(WixModel):
    order_number: list[Annotated[str, Field(max_length=100)]] = Field(min_length=1, max_length=100)


class UpdateOrderRequest(WixModel):
    fields: str | list[str] | None = Field(None, description='Field mask, comma-joined ("archived,checkoutForm")')
    archived: bool | None = None
    checkout_form: FormResponse | None = None


class OrderResponse(WixModel):
    order: dict[str, Any]


class OrdersResponse(WixModel):
    orders: list[dict[str, Any]]


class CheckoutResponse(WixModel):
    order: dict[str, Any]
    expires: str | None = None
    reservations: list[dict[str, Any]]
    order_page_url: str | None = None
    payment: dict[str, Any] | None = Field(
        None, description="Boxoffice: what the buyer needs to pay online (Stripe: provider, paymentIntentId, clientSecret)"
    )


class StripeWebhookResponse(WixModel):
    """Boxoffice: what a Stripe event did (Stripe reads only the 2xx)."""

    order_status: str | None = None
    refund_id: str | None = None


class AuthorizedPaymentRequest(WixModel):
    """Capture / Void Authorized Payment (the order number is in the path too)."""

    event_id: str | None = Field(None, max_length=36)
    order_number: str | None = Field(None, max_length=20)


class CancelOrderRequest(WixModel):
    """Boxoffice's Cancel Order: ``refund`` false keeps a paid order's money (the event's
    policy says no refunds); true (the default) gives it back."""

    refund: bool = True


class CancelEventRequest(WixModel):
    refund: bool = True


class Refund(WixModel):
    """A refund owed for a canceled or late-paid order (Boxoffice)."""

    status: str = Field(description="PENDING (to be made by the provider), SUCCEEDED, BY_HAND (paid in person: the organiser gives it back), FAILED")
    reason: str
    amount: dict[str, Any]
    provider: str
    refund_id: str | None = None
    refunded_date: str | None = None
    last_error: str | None = None


class CancelOrderResponse(WixModel):
    order: dict[str, Any]
    refund: Refund | None = None


class CancelEventResponse(WixModel):
    event_id: str
    event_status: str
    orders: list[CancelOrderResponse]


class ListOrdersResponse(WixModel):
    total: int
    offset: int
    limit: int
    orders: list[dict[str, Any]]
    facets: dict[str, Any]


class SummaryResponse(WixModel):
    sales: list[dict[str, Any]]


class AgreedPolicy(WixModel):
    policy_id: str
    revision: str
    name: str
    body: str


class PolicyAgreementResponse(WixModel):
    order_number: str
    agreed_date: str | None = None
    via: str | None = None
    policies: list[AgreedPolicy]


# --- the remaining selling methods (issue 12 section 4) --------------------------------


class CheckoutOptionsResponse(WixModel):
    payment_method_configured: bool
    accept_coupons: bool
    premium_services: bool
    paid_tickets: bool
    accept_gift_cards: bool
    payment_methods: list[str] = Field(description="Boxoffice: the enabled payment methods (offline, then the online provider)")


class DiscountRequest(WixModel):
    coupon_code: str | None = Field(None, max_length=20)


class GetInvoiceRequest(WixModel):
    event_id: str = Field(max_length=36)
    with_discount: DiscountRequest | None = None
    gift_card_code: str | None = Field(None, max_length=30)


class InvoiceResponse(WixModel):
    invoice: dict[str, Any]
    expires: str | None = None
    reservation_status: str
    reservation_occupied: bool
    reservations: list[dict[str, Any]]
    discount_errors: dict[str, Any] | None = None
    gift_card_errors: dict[str, Any] | None = None


class QueryAvailableTicketsRequest(WixModel):
    offset: StrictInt | None = Field(None, ge=0, le=MAX_OFFSET)
    limit: StrictInt | None = Field(None, ge=0, le=1000)
    filter: dict[str, Any] | None = None
    fieldset: list[str] | None = Field(None, max_length=20)
    sort: str | None = Field(None, max_length=100)


class AvailableTicketsResponse(WixModel):
    meta_data: dict[str, int]
    definitions: list[dict[str, Any]]


class BulkUpdateOrdersRequest(WixModel):
    order_number: list[Annotated[str, Field(min_length=1, max_length=36)]] = Field(min_length=1, max_length=BULK_ORDERS_MAX)
    fields: str | list[str] | None = Field(None, description='Field mask: only "archived"')
    archived: bool | None = None


# --- door sales, Update Checkout, legacy reservations (issue 12 §4) ---

GUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class LegacyTicketDetails(WixModel):
    """One ticket of a legacy reservation line (the typings' ``TicketDetails``). No
    seating plans here: ``seatId`` and ``capacity`` are accepted and not used."""

    seat_id: str | None = Field(None, min_length=1, max_length=36)
    capacity: StrictInt | None = Field(None, ge=1, le=50)
    price_override: str | None = Field(None, max_length=13)
    pricing_option_id: str | None = Field(None, max_length=36)


class TicketReservationQuantity(WixModel):
    ticket_definition_id: str = Field(max_length=36)
    quantity: StrictInt = Field(ge=1, le=50)
    price_override: str | None = Field(None, max_length=13)
    ticket_details: list[LegacyTicketDetails] | None = Field(None, max_length=50)


class CreateReservationRequest(WixModel):
    event_id: str = Field(max_length=36)
    ticket_quantities: list[TicketReservationQuantity] = Field(min_length=1, max_length=50)
    ignore_limits: bool | None = None
    allow_hidden_tickets: bool | None = None


class CreateReservationResponse(WixModel):
    id: str
    expires: str | None = None
    reservations: list[dict[str, Any]]
    invoice: dict[str, Any]
    reservation_status: str


class PosCheckoutRequest(WixModel):
    event_id: str = Field(max_length=36)
    reservation_id: str = Field(max_length=36)
    payment_details_id: str | None = Field(
        None, pattern=GUID, description="The card payment's id (a card terminal's transaction); recorded on the order"
    )
    # Boxoffice's own fields (the SDK's posCheckout() sends only the three above): how the
    # door was paid, who bought, and whether the guests walk in now.
    payment_method: Literal["CASH", "CARD"] | None = Field(
        None, description="Boxoffice: CASH or CARD (card-present); default CARD with paymentDetailsId, else CASH"
    )
    buyer: Buyer | None = Field(None, description="Boxoffice: the buyer's name and e-mail (the confirmation goes there)")
    check_in: bool | None = Field(None, description="Boxoffice: check the tickets in at once (needs CHECK_IN_GUESTS for a staff member)")


class PosCheckoutResponse(WixModel):
    order: dict[str, Any]
    expires: str | None = None
    reservations: list[dict[str, Any]]


class PaidPlanBenefit(WixModel):
    plan_order_id: str | None = Field(None, max_length=36)
    benefit_id: str | None = Field(None, max_length=36)


class UpdateCheckoutRequest(WixModel):
    event_id: str = Field(max_length=36)
    buyer: Buyer | None = None
    guests: list[Guest] | None = Field(None, min_length=1, max_length=50)
    member_id: str | None = Field(None, max_length=36)
    discount: DiscountRequest | None = None
    paid_plan_benefit: PaidPlanBenefit | None = None
    gift_card_code: str | None = Field(None, max_length=30)


class UpdateCheckoutResponse(WixModel):
    order: dict[str, Any]
    order_page_url: str | None = None
