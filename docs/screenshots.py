"""Screenshots for the README: the buyer's confirmation e-mail and a ticket PDF.

Run by hand (it is not part of CI), from the repository root, after
``pip install -e '.[test]'`` (Playwright's Python package):

    apt-get install chromium poppler-utils   # Debian's browser, and pdftoppm
    .venv/bin/python docs/screenshots.py     # writes docs/img/*.png

What it does:

1. a scratch ``boxoffice serve`` on a temporary SQLite database, with the ``test``
   payment provider and no SMTP server, so the mail worker writes each message as an
   ``.eml`` file into ``BOXOFFICE_MAIL_DIR``;
2. through the API: a published event with a ticket definition, a reservation of two
   tickets, checkout, and the payment (the test provider's pay endpoint), which makes
   the order PAID and queues the confirmation; then it waits for the ``.eml``;
3. ``docs/img/confirmation-email.png``: the message's HTML part, rendered by Playwright
   driving Debian's ``/usr/bin/chromium`` (``executable_path``: no browser is ever
   downloaded), JavaScript off as in a mail client;
4. ``docs/img/ticket-pdf.png``: the first page of the first ticket PDF attached to the
   message, rendered by ``pdftoppm`` (poppler-utils).

Options: ``--out DIR`` (default docs/img), ``--chromium PATH``, ``--keep`` (keep the
scratch directory and print where it is).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
BOXOFFICE = Path(sys.executable).parent / "boxoffice"
SITE = "demo"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def run(env: dict[str, str], *args: str) -> str:
    r = subprocess.run([str(BOXOFFICE), *args], env=env, capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        sys.exit(f"boxoffice {' '.join(args)} failed:\n{r.stderr}")
    return r.stdout.strip()


def call(http: httpx.Client, method: str, path: str, body: Any = None) -> dict[str, Any]:
    r = http.request(method, path, json=body)
    if r.status_code != 200:
        sys.exit(f"{method} {path}: {r.status_code} {r.text}")
    return dict(r.json())


def make_order(http: httpx.Client) -> str:
    """A published event, a ticket definition, two tickets checked out and paid."""
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).replace(hour=17, minute=0, second=0, microsecond=0)
    ev = call(http, "POST", "/events/v3/events", {
        "event": {
            "title": "Leatherworking for Beginners",
            "dateAndTimeSettings": {
                "startDate": iso(start), "endDate": iso(start + dt.timedelta(hours=3)), "timeZoneId": "Europe/London",
            },
            "location": {"type": "VENUE", "name": "The Workshop",
                         "address": {"formattedAddress": "12 Tanners Lane, London"}},
            "registration": {"initialType": "TICKETING"},
        },
        "draft": False,
    })["event"]
    td = call(http, "POST", "/events-ticket-definitions/v3/ticket-definitions", {
        "ticketDefinition": {
            "eventId": ev["id"], "name": "General admission", "initialLimit": 20,
            "pricingMethod": {"fixedPrice": {"value": "45", "currency": "GBP"}}, "feeType": "FEE_INCLUDED",
        }
    })["ticketDefinition"]
    res = call(http, "POST", "/events/v1/ticket-reservations", {
        "ticketReservation": {"tickets": [{"ticketDefinitionId": td["id"], "quantity": 2}]}
    })["ticketReservation"]
    form = {"inputValues": [
        {"inputName": "firstName", "value": "Ann"},
        {"inputName": "lastName", "value": "Lee"},
        {"inputName": "email", "value": "ann@example.com"},
    ]}
    order = call(http, "POST", "/events/v1/checkout",
                 {"eventId": ev["id"], "reservationId": res["id"], "guests": [{"form": form}]})["order"]
    number = str(order["orderNumber"])
    call(http, "POST", f"/boxoffice/v1/test-payments/{number}/pay")
    return number


def wait_for_eml(mail_dir: Path, server: subprocess.Popen, timeout: float = 60) -> EmailMessage:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = sorted(mail_dir.glob("*.eml")) if mail_dir.exists() else []
        if found:
            msg = BytesParser(policy=policy.default).parsebytes(found[0].read_bytes())
            assert isinstance(msg, EmailMessage)
            return msg
        if server.poll() is not None:
            sys.exit("boxoffice serve exited before the mail was written")
        time.sleep(0.2)
    sys.exit(f"no .eml appeared in {mail_dir} within {timeout:g} s (is the mail worker running?)")


def render_html(html: str, out: Path, chromium: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True)
        try:
            page = browser.new_page(viewport={"width": 640, "height": 400}, device_scale_factor=2,
                                    java_script_enabled=False)
            page.set_content(html, wait_until="load")
            page.screenshot(path=str(out), full_page=True)
        finally:
            browser.close()


def render_pdf_page(pdf: bytes, out: Path, scratch: Path) -> None:
    src = scratch / "ticket.pdf"
    src.write_bytes(pdf)
    stem = out.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", "130", "-f", "1", "-l", "1", "-singlefile", str(src), str(stem)], check=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = ap.parse_args()
    missing = [what for what, ok in (
        (f"{args.chromium} (apt-get install chromium)", Path(args.chromium).exists()),
        ("pdftoppm (apt-get install poppler-utils)", shutil.which("pdftoppm") is not None),
        (f"{BOXOFFICE} (pip install -e '.[test]')", BOXOFFICE.exists()),
    ) if not ok]
    if missing:
        sys.exit("missing: " + "; ".join(missing))

    scratch = Path(tempfile.mkdtemp(prefix="boxoffice-screenshots-"))
    mail_dir = scratch / "mail"
    port = free_port()
    env = {
        **os.environ,
        "BOXOFFICE_DATABASE_URL": f"sqlite:///{scratch / 'shots.db'}",
        "BOXOFFICE_TEST_PAYMENTS": "1",
        "BOXOFFICE_STRIPE_SECRET_KEY": "",
        "BOXOFFICE_SMTP_URL": "",
        "BOXOFFICE_MAIL_DIR": str(mail_dir),
        "BOXOFFICE_MAIL_FROM": "Leather Shop <tickets@leathershop.example>",
        "BOXOFFICE_PUBLIC_URL": "https://tickets.leathershop.example",
    }
    server: subprocess.Popen | None = None
    try:
        run(env, "migrate")
        key = run(env, "keys", "create", "--site", SITE, "--identity", "app")
        server = subprocess.Popen(
            [str(BOXOFFICE), "serve", "--port", str(port), "--log-level", "warning", "--no-access-log"], env=env, cwd=ROOT
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None:
                sys.exit("boxoffice serve did not start")
            time.sleep(0.1)
        with httpx.Client(base_url=base, headers={"Authorization": key, "wix-site-id": SITE}, timeout=30) as http:
            number = make_order(http)
        msg = wait_for_eml(mail_dir, server)
        html_part = msg.get_body(preferencelist=("html",))
        assert html_part is not None, "the message has no HTML part"
        pdfs = [a for a in msg.iter_attachments() if a.get_content_type() == "application/pdf"]
        assert pdfs, "the message has no ticket PDF"
        args.out.mkdir(parents=True, exist_ok=True)
        email_png, ticket_png = args.out / "confirmation-email.png", args.out / "ticket-pdf.png"
        render_html(html_part.get_content(), email_png, args.chromium)
        render_pdf_page(pdfs[0].get_payload(decode=True), ticket_png, scratch)
        print(f"order {number}: {msg['Subject']}")
        for p in (email_png, ticket_png):
            print(f"wrote {p.relative_to(ROOT) if p.is_relative_to(ROOT) else p} ({p.stat().st_size // 1024} KiB)")
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        if args.keep:
            print(f"scratch directory kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
