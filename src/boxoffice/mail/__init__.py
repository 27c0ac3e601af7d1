"""E-mail to buyers: the confirmation with their tickets (PDF per ticket, an ``.ics``
and the order's link), written in the confirming transaction and sent by the mail
worker (``worker.py``) with leases, retries and backoff."""
