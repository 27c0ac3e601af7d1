"""Staff members on the wire and the bodies of their domain events. Presentation only."""

from __future__ import annotations

from typing import Any

from ..timefmt import iso
from .models import StaffMember


def to_wire(s: StaffMember, events: list[str], login_link: str | None = None) -> dict[str, Any]:
    """A staff member as the SDK's ``StaffMember``: ``events`` are its assigned events
    (ignored when it has all events); ``login_link`` only where asked for."""
    out: dict[str, Any] = {
        "id": s.id,
        "revision": str(s.revision),
        "createdDate": iso(s.created_date),
        "updatedDate": iso(s.updated_date),
        "status": s.status,
        "permissions": s.permission_list,
        "extendedFields": {"namespaces": (s.extended_fields or {})},
    }
    if s.name is not None:
        out["name"] = s.name
    if s.all_events:
        out["allEvents"] = {}
    else:
        out["specificEvents"] = {"events": list(events)}
    if login_link is not None:
        out["loginLink"] = login_link
    return out


# The webhooks never carry the login link: it is a credential.
def created(s: StaffMember, events: list[str]) -> dict[str, Any]:
    return {"createdEvent": {"entity": to_wire(s, events)}}


def updated(s: StaffMember, events: list[str]) -> dict[str, Any]:
    return {"updatedEvent": {"currentEntity": to_wire(s, events)}}


def deleted(s: StaffMember, events: list[str]) -> dict[str, Any]:
    return {"deletedEvent": {"deletedEntity": to_wire(s, events)}}


def without_guest_forms(item: dict[str, Any]) -> dict[str, Any]:
    """A ticket or order as a staff member without READ_GUEST_FORM sees it: the form
    answers (``checkoutForm``, ``guestDetails.form``, at any depth) are empty."""
    out = dict(item)
    if "checkoutForm" in out:
        out["checkoutForm"] = {"inputValues": []}
    if isinstance(out.get("guestDetails"), dict) and "form" in out["guestDetails"]:
        out["guestDetails"] = {**out["guestDetails"], "form": {"inputValues": []}}
    if isinstance(out.get("tickets"), list):
        out["tickets"] = [without_guest_forms(t) if isinstance(t, dict) else t for t in out["tickets"]]
    return out


# Signed links that open a ticket (its PDF, with the QR code) without credentials: they
# outlive whoever was shown them, so a staff member, whose access can end, is not shown them.
_BEARER_LINKS = ("ticketsPdf", "ticketPdfUrl", "qrCode")


def for_staff(item: dict[str, Any], guest_forms: bool) -> dict[str, Any]:
    """A ticket or order as a staff member sees it: no bearer links to the tickets, and
    without READ_GUEST_FORM no form answers."""
    out = without_guest_forms(item) if not guest_forms else dict(item)
    for k in _BEARER_LINKS:
        out.pop(k, None)
    if isinstance(out.get("invoice"), dict) and "previewUrl" in out["invoice"]:
        out["invoice"] = {k: v for k, v in out["invoice"].items() if k != "previewUrl"}
    if isinstance(out.get("tickets"), list):
        out["tickets"] = [for_staff(t, True) if isinstance(t, dict) else t for t in out["tickets"]]
    return out
