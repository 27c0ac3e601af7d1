"""Imports every table so that Base.metadata is complete (Alembic, tests): the kernel's
and every slice's ``models`` module, found by name so that a new slice needs no line here."""

import importlib
import pkgutil

import boxoffice

from .auth import ApiKey, InstanceSecret, Site  # noqa: F401
from .outbox.models import OutboxEvent, WebhookDelivery, WebhookSubscription  # noqa: F401

for _module in pkgutil.iter_modules(boxoffice.__path__):
    if _module.ispkg:
        try:
            importlib.import_module(f"boxoffice.{_module.name}.models")
        except ModuleNotFoundError as e:  # a package without tables
            if e.name != f"boxoffice.{_module.name}.models":
                raise
