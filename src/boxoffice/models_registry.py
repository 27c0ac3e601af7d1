"""Imports every table so that Base.metadata is complete (Alembic, tests)."""

from .auth import ApiKey, InstanceSecret, Site  # noqa: F401
from .events.models import Event  # noqa: F401
from .orders.models import Order  # noqa: F401
from .outbox.models import OutboxEvent, WebhookDelivery, WebhookSubscription  # noqa: F401
from .reservations.models import ReservationLine, TicketReservation  # noqa: F401
from .ticket_definitions.models import TicketDefinition  # noqa: F401
from .tickets.models import Ticket  # noqa: F401
from .webhooks.models import WebhookKey  # noqa: F401
