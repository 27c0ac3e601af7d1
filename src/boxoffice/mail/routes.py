"""Mail over HTTP: Boxoffice's own admin route (the Wix SDK has no such method), under
Boxoffice's own prefix like the test payment provider's."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from ..api.deps import DB, require
from ..api.http import JSON
from ..identity import Permission, Principal
from . import service, wire
from .schemas import ResendConfirmationResponse

router = APIRouter(tags=["Mail"])

# Sending mail to a buyer is the order's business: "Manage Orders" only.
ChangeOrders = require(Permission.MANAGE_ORDERS)


@router.post(
    "/boxoffice/v1/orders/{orderNumber}/resend-confirmation",
    response_model=ResendConfirmationResponse,
    summary="Resend Order Confirmation",
)
def resend_confirmation(orderNumber: str, db: DB, principal: Principal = ChangeOrders) -> JSON:
    """Queue the order's confirmation e-mail again (tickets attached), as a new message,
    to the order's own e-mail address; the mail worker sends it. 428 while one is still
    waiting, or for an order that is not paid or free."""

    def work(session: Session) -> JSON:
        m = service.resend_confirmation(session, principal, orderNumber)
        return JSON({"message": wire.message_wire(m, orderNumber)})

    return db.write(work)
