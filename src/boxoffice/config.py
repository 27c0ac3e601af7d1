"""Settings, read once from ``BOXOFFICE_*`` environment variables."""

from functools import lru_cache
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BOXOFFICE_", extra="ignore")

    database_url: str = "sqlite:///./boxoffice.db"
    host: str = "127.0.0.1"
    port: int = 8000
    # Threads that run request handlers in each process. Few: handlers are short and
    # CPU-bound under the GIL, and many threads starve the event loop (long tail latency).
    threads: int = 8
    # Database connections per process (at least `threads`); SQLite ignores it.
    db_pool_size: int = 10
    # Group commit (Create Ticket Reservation): under load, how long a batch waits for
    # more calls before it starts, in milliseconds (0: never; bench/flash_sale.py --lingers).
    group_commit_linger_ms: float = 0.0
    # How long a resolved API key is trusted without asking the database again.
    # Revoking a key therefore takes effect within this many seconds.
    auth_cache_seconds: float = 30.0
    # Secret that signs query cursors. When empty, the secret that `boxoffice migrate`
    # stored in the database is used, so several processes agree without set-up.
    secret: str = ""
    # How long a PENDING reservation holds its seats unless the event sets
    # registration.tickets.reservationDurationInMinutes.
    reservation_minutes: int = 20
    # Whether `boxoffice serve` also runs the webhook worker and the scheduler (sale
    # transitions, reservation expiry) in its process. Reads stay right without them.
    background: bool = True
    # Seconds between scheduler passes (sale_started/sale_ended, reservation expiry).
    tick_seconds: float = 0.2
    # Webhook delivery: deliveries in flight per worker, the HTTP timeout, how long a
    # claimed delivery is leased (a killed worker's deliveries go again after it), and
    # attempts before a delivery is dead-lettered.
    webhook_concurrency: int = 32
    webhook_timeout_seconds: float = 5.0
    webhook_lease_seconds: float = 30.0
    webhook_max_attempts: int = 8
    # First retry waits up to this many seconds; each further one up to twice as long
    # (full jitter), never more than an hour.
    webhook_backoff_seconds: float = 1.0
    # The built-in `test` payment provider (an online-payment simulator, paid or declined
    # by POST /boxoffice/v1/test-payments/...): for development and CI only. `make run`,
    # the tests and the conformance suite turn it on; production leaves it off.
    test_payments: bool = False
    # --- Stripe (payments/stripe_provider.py): card payments when the secret key is set
    # (it wins over test_payments). The webhook endpoint's signing secret (whsec_...)
    # verifies POST /boxoffice/v1/payments/stripe/webhook; without it every event is
    # refused. The API base is Stripe's own unless pointed at e.g. localstripe.
    stripe_secret_key: SecretStr = SecretStr("")
    stripe_webhook_secret: SecretStr = SecretStr("")
    stripe_api_base: str = "https://api.stripe.com"
    # "manual": card payments are only authorized at checkout (the order is AUTHORIZED,
    # its seats sold) and taken by Capture Authorized Payment, or let go by Void
    # Authorized Payment; "automatic" (default): taken at once.
    stripe_capture: Literal["automatic", "manual"] = "automatic"
    # the publishable key (pk_live_/pk_test_) the public checkout page gives Stripe.js
    # (Payment Element); without it the page cannot take cards (it offers paying in person)
    stripe_publishable_key: str = ""
    # reverse proxies whose X-Forwarded-Proto/-For boxoffice serve believes ("*": any)
    forwarded_allow_ips: str = "127.0.0.1"
    # "json": every log line one JSON object, and one line per request (request id, site,
    # route, status, duration) instead of uvicorn's access log; "text": uvicorn's own lines
    log_format: Literal["text", "json"] = "text"
    # FEE_ADDED_AT_CHECKOUT service fee, as a fraction of the ticket price.
    service_fee_rate: str = "0.025"
    # Largest request body in bytes; larger ones are refused with 413 before parsing.
    max_body_bytes: int = 1_000_000
    # Webhook URLs: a site owner (a tenant) may not point deliveries at loopback,
    # private, link-local or metadata addresses unless the operator allows it here.
    # Checked when a subscription is added and again on the resolved address at send.
    webhook_allow_private_urls: bool = False
    # Deliveries in flight to one subscription at a time, so that one slow receiver
    # cannot take every sender of a worker.
    webhook_per_subscription_concurrency: int = 4
    # Open live-counter streams per process; the next one is answered 503.
    live_max_streams: int = 5_000
    # Pay-in-person (OFFLINE_PENDING) orders hold their seats at most this many hours,
    # and never past the event's start; unconfirmed then, they are canceled and the
    # seats released.
    offline_hold_hours: float = 72.0
    # --- e-mail to buyers (mail/) ---
    # The public base URL of this server, for links in e-mails (the mail worker has no
    # request to take it from): the order's signed tickets link.
    public_url: str = "http://127.0.0.1:8000"
    # SMTP server: smtp://user:password@host:587?starttls=1 (starttls=0: never; absent:
    # when offered), or smtps://user:password@host:465 (TLS from the start). A password
    # goes only over TLS unless the host is loopback. Empty: mails are written as .eml
    # files to mail_dir instead.
    smtp_url: SecretStr = SecretStr("")
    # The From header (and the envelope sender, its address part).
    mail_from: str = "Boxoffice <boxoffice@localhost>"
    # Where mails go when no SMTP server is configured (one .eml file per message).
    mail_dir: str = "./outbox-mail"
    # A directory searched before the built-in templates (confirmation_subject.txt,
    # confirmation.txt, confirmation.html; Jinja2, sandboxed).
    mail_templates_dir: str = ""
    # Sending one message: total deadline; how long a claimed message is leased (a killed
    # worker's messages go again after it); attempts before a message is dead; the first
    # retry waits up to this many seconds, each further one up to twice as long (at most
    # an hour, full jitter).
    mail_timeout_seconds: float = 30.0
    mail_lease_seconds: float = 300.0
    mail_max_attempts: int = 12
    mail_backoff_seconds: float = 30.0


@lru_cache
def get_settings() -> Settings:
    return Settings()
