"""The domain, assembled: every slice's service, imported once.

Slices react to the slices below them through hooks they declare (``events.hooks``,
``reservations.hooks``) and the slices above register into at import. Whatever runs
the domain (the app, the CLI, the scheduler) imports this module first, so that no
hook is missing whichever slice it happens to call.
"""

from __future__ import annotations

from .categories import service as categories
from .events import service as events
from .forms import service as forms
from .guests import service as guests
from .mail import service as mail
from .orders import service as orders
from .policies import service as policies
from .reservations import service as reservations
from .schedule import service as schedule
from .staff_members import service as staff_members
from .ticket_definitions import service as ticket_definitions
from .ticket_definitions_v1 import service as ticket_definitions_v1
from .tickets import service as tickets

__all__ = ["categories", "events", "forms", "guests", "mail", "orders", "policies", "reservations", "schedule", "staff_members", "ticket_definitions", "ticket_definitions_v1", "tickets"]
