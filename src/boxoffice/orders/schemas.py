"""Checkout and Orders wire shapes (`@wix/auto_sdk_events_orders`, legacy v1)."""

from __future__ import annotations

from typing import Annotated, Any

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
