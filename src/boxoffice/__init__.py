"""Boxoffice: a self-hostable event-ticketing service speaking the Wix Events ticketing API."""

__version__ = "0.1.0"
