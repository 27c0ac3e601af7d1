"""A hypothesis state machine of the selling flow against a plain model.

Steps: reserve / cancel / expire / sweep / checkout (online, offline, free) / pay /
decline / confirm / check in. After every step `salesDetails` of each definition must
equal what the model says, and nothing is ever sold beyond its limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, rule, run_state_machine_as_test

from boxoffice.db import now
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


def machine(api, database):  # noqa: ANN201
    ev: dict = {}
    tds: dict = {}

    class Selling(RuleBasedStateMachine):
        reservations = Bundle("reservations")
        orders = Bundle("orders")

        def __init__(self) -> None:
            super().__init__()
            self.all: list[Res] = []
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
            if res.kind == "free":
                res.order_status, res.state = "FREE", "CONFIRMED"
            elif offline:
                res.order_status, res.state = "OFFLINE_PENDING", "CONFIRMED"
            else:
                res.order_status = "PENDING"
            assert o["status"] == res.order_status
            return res

        @rule(res=orders, pay=st.booleans())
        def pay_or_decline(self, res: Res, pay: bool) -> None:
            if not isinstance(res, Res):
                return
            r = api.post(f"/boxoffice/v1/test-payments/{res.order}/{'pay' if pay else 'decline'}")
            if res.order_status != "PENDING" or res.state != "PENDING":
                assert r.status_code == 428, r.text
                return
            assert r.status_code == 200, r.text
            if pay:
                res.order_status, res.state = "PAID", "CONFIRMED"
            else:
                res.order_status, res.state = "DECLINED", "CANCELED"

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
                res.order_status, res.state = "PAID", "CONFIRMED"
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
