"""A hypothesis state machine of the selling flow against a plain model.

Steps: reserve / cancel / expire / sweep / checkout (online, offline, free) / pay /
decline (also after the hold: a late payment) / confirm / check in / Cancel Order with
or without its refund. After every step `salesDetails` of each definition must equal
what the model says, nothing is ever sold beyond its limit, and money is accounted: the
refunds recorded are exactly those the model owes (a paid order canceled with its
refund, a payment that came too late), so every payment taken has valid tickets or a
refund. The same machine runs with the `test` provider here and with Stripe (signed
webhooks, localstripe) in tests/test_stripe.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, rule, run_state_machine_as_test
from sqlalchemy import select

from boxoffice.db import now
from boxoffice.orders.models import Order
from boxoffice.payments.models import PaymentRefund
from boxoffice.reservations.service import release_overdue
from tests.helpers import RES, create_event, create_td, expire_now, guest_form, sales

LIMITS = {"paid": 6, "free": 4}


@dataclass
class Res:
    id: str
    kind: str
    qty: int
    state: str = "PENDING"  # PENDING, EXPIRED, CANCELED, CONFIRMED
    order: str | None = None
    order_status: str | None = None
    tickets: list[str] = field(default_factory=list)
    payment: dict = field(default_factory=dict)  # the checkout response's `payment` (Stripe)
    online: bool = False  # checked out to be paid online
    by_hand: bool = False  # confirmed by its organiser while it awaited the online payment


def by_test_provider(api: Any) -> Callable[[Res, bool], bool]:
    """The `test` provider: pay or decline by its endpoint. -> whether money was taken."""

    def pay(res: Res, ok: bool) -> bool:
        r = api.post(f"/boxoffice/v1/test-payments/{res.order}/{'pay' if ok else 'decline'}")
        if res.order_status != "PENDING" or res.state != "PENDING":
            assert r.status_code == 428, r.text
            return False
        assert r.status_code == 200, r.text
        return ok

    return pay


def machine(api, database, payer: Callable[[Res, bool], bool] | None = None, late_payments: bool = False):  # noqa: ANN201
    """``payer(res, ok)``: the buyer pays (or the payment fails); returns whether money
    was taken. ``late_payments``: the provider may take money for an order that can no
    longer be sold (Stripe does; the `test` endpoint refuses), which must be refunded."""
    pay_with = payer or by_test_provider(api)
    ev: dict = {}
    tds: dict = {}

    class Selling(RuleBasedStateMachine):
        reservations = Bundle("reservations")
        orders = Bundle("orders")

        def __init__(self) -> None:
            super().__init__()
            self.all: list[Res] = []
            self.refunds: set[str] = set()  # the orders whose payment is owed back
            # every example sells a fresh event's tickets
            ev.update(create_event(api, draft=False))
            tds["paid"] = create_td(api, ev["id"], name="Paid", initialLimit=LIMITS["paid"])
            tds["free"] = create_td(
                api, ev["id"], name="Free", initialLimit=LIMITS["free"], pricingMethod={"fixedPrice": {"value": "0", "currency": "USD"}}
            )

        # --- the model ---
        def held(self, kind: str) -> int:
            return sum(r.qty for r in self.all if r.kind == kind and r.state == "PENDING")

        def sold(self, kind: str) -> int:
            return sum(r.qty for r in self.all if r.kind == kind and r.state == "CONFIRMED")

        @rule(target=reservations, kind=st.sampled_from(["paid", "free"]), qty=st.integers(1, 4))
        def reserve(self, kind: str, qty: int) -> Res | object:
            left = LIMITS[kind] - self.held(kind) - self.sold(kind)
            r = api.post(RES, {"ticketReservation": {"tickets": [{"ticketDefinitionId": tds[kind]["id"], "quantity": qty}]}})
            if qty > left:
                assert r.status_code == 428 and r.json()["details"]["applicationError"]["code"] == "SOLD_OUT"
                return multiple()  # refused: nothing joins the bundle
            assert r.status_code == 200, r.text
            res = Res(r.json()["ticketReservation"]["id"], kind, qty)
            self.all.append(res)
            return res

        @rule(res=reservations)
        def cancel(self, res: Res) -> None:
            if not isinstance(res, Res):
                return
            r = api.post(f"{RES}/{res.id}/cancel", {})
            if res.state in ("PENDING", "CONFIRMED"):
                assert r.status_code == 200, r.text
                res.state = "CANCELED"
                if res.order:
                    res.order_status = "CANCELED"
            else:
                assert r.status_code == 428

        @rule(res=reservations)
        def expire(self, res: Res) -> None:
            if not isinstance(res, Res) or res.state != "PENDING":
                return
            expire_now(database, res.id)
            res.state = "EXPIRED"
            if res.order and res.order_status == "PENDING":
                res.order_status = "CANCELED"

        @rule()
        def sweep(self) -> None:
            with database.session(write=True) as s:
                release_overdue(s, now())

        @rule(target=orders, res=reservations, offline=st.booleans())
        def checkout(self, res: Res, offline: bool) -> Res | object:
            if not isinstance(res, Res):
                return multiple()
            body = {"eventId": ev["id"], "reservationId": res.id, "guests": [guest_form()]}
            if offline:
                body["options"] = {"payInPerson": True}
            r = api.post("/events/v1/checkout", body)
            if res.state != "PENDING" or res.order:
                assert r.status_code == 428, r.text
                return multiple()
            assert r.status_code == 200, r.text
            o = r.json()["order"]
            res.order, res.tickets = o["orderNumber"], [t["ticketNumber"] for t in o["tickets"]]
            res.payment = r.json().get("payment") or {}
            if res.kind == "free":
                res.order_status, res.state = "FREE", "CONFIRMED"
            elif offline:
                res.order_status, res.state = "OFFLINE_PENDING", "CONFIRMED"
            else:
                res.order_status, res.online = "PENDING", True
            assert o["status"] == res.order_status
            return res

        @rule(res=orders, pay=st.booleans())
        def pay_or_decline(self, res: Res, pay: bool) -> None:
            if not isinstance(res, Res) or not res.online:
                return
            open_ = res.order_status == "PENDING" and res.state == "PENDING"
            taken = pay_with(res, pay)
            if open_:
                if pay:
                    res.order_status, res.state = "PAID", "CONFIRMED"
                else:
                    res.order_status, res.state = "DECLINED", "CANCELED"
            elif taken and late_payments and res.order_status != "PAID":
                self.refunds.add(res.order)  # money for an order that could not be sold: given back
                if res.order_status == "PENDING":  # its hold ran out (not yet swept)
                    res.order_status = "CANCELED"

        @rule(res=orders, refund=st.booleans())
        def cancel_order(self, res: Res, refund: bool) -> None:
            if not isinstance(res, Res):
                return
            r = api.post(f"/boxoffice/v1/events/{ev['id']}/orders/{res.order}/cancel", {"refund": refund})
            can = res.order_status in ("PAID", "FREE", "OFFLINE_PENDING") or (res.order_status == "PENDING" and res.state == "PENDING")
            if not can:
                assert r.status_code == 428, r.text
                return
            assert r.status_code == 200, r.text
            owed = res.order_status == "PAID" and refund
            assert (r.json()["refund"] is not None) == owed, r.text
            if owed:
                self.refunds.add(res.order)
                # a card payment is given back by the provider; one taken in person, by hand
                assert r.json()["refund"]["status"] == ("SUCCEEDED" if res.online and not res.by_hand else "BY_HAND"), r.text
            res.order_status, res.state = "CANCELED", "CANCELED"

        @rule(res=orders)
        def confirm(self, res: Res) -> None:
            if not isinstance(res, Res):
                return
            r = api.post(f"/events/v1/events/{ev['id']}/orders/confirm", {"orderNumber": [res.order]})
            if res.order_status in ("PAID", "FREE"):
                assert r.status_code == 200
            elif res.order_status == "OFFLINE_PENDING":
                assert r.status_code == 200
                res.order_status = "PAID"
            elif res.order_status == "PENDING" and res.state == "PENDING":
                assert r.status_code == 200, r.text
                # paid some other way: the online payment is stopped, a refund is by hand
                res.order_status, res.state, res.by_hand = "PAID", "CONFIRMED", True
            else:
                assert r.status_code == 428, r.text

        @rule(res=orders)
        def check_in(self, res: Res) -> None:
            if not isinstance(res, Res):
                return
            r = api.post("/events/v1/tickets/check-in", {"eventId": ev["id"], "ticketNumber": res.tickets[:1]})
            ok = res.order_status in ("PAID", "FREE") and res.state == "CONFIRMED"
            assert (r.status_code == 200) == ok or r.json()["details"]["applicationError"]["code"] == "TICKET_ALREADY_CHECKED_IN", r.text

        @invariant()
        def sales_match_the_model(self) -> None:
            for kind, td in tds.items():
                got = sales(api, td["id"])
                held, sold = self.held(kind), self.sold(kind)
                assert got == {
                    "unsoldCount": LIMITS[kind] - held - sold,
                    "soldCount": sold,
                    "reservedCount": held,
                    "soldOut": LIMITS[kind] - held - sold == 0,
                }, (kind, got, held, sold)
                assert got["soldCount"] + got["reservedCount"] <= LIMITS[kind]

        @invariant()
        def money_is_accounted(self) -> None:
            with database.session() as s:
                refunded = set(s.scalars(select(Order.order_number).join(PaymentRefund, PaymentRefund.order_id == Order.id).where(PaymentRefund.status != "KEPT")))
                statuses = {o.order_number: o.status_at() for o in s.scalars(select(Order).where(Order.event_id == ev["id"]))}
            mine = {r.order for r in self.all if r.order}
            assert refunded & mine == self.refunds, (refunded & mine, self.refunds)
            for r in self.all:
                if r.order:
                    assert statuses[r.order] == r.order_status, (r, statuses[r.order])

    return Selling


def test_selling_state_machine(api, database):
    Selling = machine(api, database)
    run_state_machine_as_test(
        Selling,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        ),
    )
