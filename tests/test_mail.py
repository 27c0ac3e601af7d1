"""The buyer's confirmation e-mail (issue 12, part 1), on SQLite and PostgreSQL, with a
real SMTP server (aiosmtpd) on loopback: one message per confirmed order with a valid
PDF per ticket and the event's .ics; a dead server delays and never loses it; the
.eml directory fallback; resend by CLI and API and their refusals; a sender killed
mid-send sends it once more, never more."""

from __future__ import annotations

import datetime as dt
import io
import signal
import socket
import subprocess
import sys
import threading
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from icalendar import Calendar
from pypdf import PdfReader
from sqlalchemy import select, update

from boxoffice.identity import Permission
from boxoffice.mail import worker
from boxoffice.mail.compose import check_recipient
from boxoffice.mail.models import MailMessage, MailStatus
from boxoffice.mail.sender import PermanentFailure, SmtpSender, parse_smtp_url
from boxoffice.mail.worker import MailLoop, MailSettings, send_due
from boxoffice.orders.models import Order
from tests.conftest import ROOT
from tests.helpers import checkout, create_event, create_td, guest_form, reserve

PUBLIC = "https://tickets.example.org"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """aiosmtpd's handler: keeps every message it accepts."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.hold: threading.Event | None = None  # set: DATA waits for it before answering
        self.received = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        self.received.set()
        if self.hold is not None:
            self.hold.wait(30)  # (blocks the server's loop: one client at a time here)
        return "250 OK"

    def messages(self) -> list[EmailMessage]:
        return [BytesParser(policy=policy.default).parsebytes(e.content) for e in self.envelopes]


class Smtp:
    def __init__(self, port: int | None = None, **kw: Any) -> None:
        self.port = port or free_port()
        self.inbox = Inbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **kw)

    def start(self) -> Smtp:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


@pytest.fixture
def smtp():
    server = Smtp().start()
    yield server
    server.stop()


def settings_for(port: int, **over: Any) -> MailSettings:
    base: dict[str, Any] = dict(
        smtp_url=f"smtp://127.0.0.1:{port}",
        from_addr="Leather Shop <tickets@shop.example>",
        public_url=PUBLIC,
        timeout_seconds=5.0,
        lease_seconds=60.0,
        backoff_base=2.0,
    )
    base.update(over)
    return MailSettings(**base)


@pytest.fixture
def shop(api):
    ev = create_event(api, title="Leather Workshop", draft=False)
    paid = create_td(api, ev["id"], name="Paid", initialLimit=20, pricingMethod={"fixedPrice": {"value": "40", "currency": "USD"}})
    free = create_td(api, ev["id"], name="Free", initialLimit=20, pricingMethod={"fixedPrice": {"value": "0", "currency": "USD"}})
    return ev, paid, free


def code(r) -> str:
    return r.json()["details"]["applicationError"]["code"]


def rows(database, order_number: str | None = None) -> list[MailMessage]:
    with database.session() as s:
        stmt = select(MailMessage).order_by(MailMessage.created_date, MailMessage.id)
        if order_number:
            stmt = stmt.join(Order, Order.id == MailMessage.order_id).where(Order.order_number == order_number)
        return list(s.scalars(stmt))


def pay(api, order_number: str) -> None:
    r = api.post(f"/boxoffice/v1/test-payments/{order_number}/pay")
    assert r.status_code == 200, r.text


def paid_order(api, shop, quantity: int = 2) -> dict:
    ev, paid, _ = shop
    o = checkout(api, ev["id"], reserve(api, paid["id"], quantity)["id"])["order"]
    pay(api, o["orderNumber"])
    return o


def attachments(msg: EmailMessage) -> list[tuple[str, str, bytes]]:
    return [(a.get_filename(), a.get_content_type(), a.get_payload(decode=True)) for a in msg.iter_attachments()]


def bodies(msg: EmailMessage) -> tuple[str, str]:
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


# --- the message -----------------------------------------------------------------------


def test_paid_order_gets_one_message_with_a_pdf_per_ticket_and_the_ics(api, client, database, shop, smtp):
    ev, _, _ = shop
    s = settings_for(smtp.port)
    o = checkout(api, ev["id"], reserve(api, shop[1]["id"], 2)["id"])["order"]
    assert rows(database) == []  # PENDING online: nothing to send yet
    assert send_due(database, s) == 0
    pay(api, o["orderNumber"])
    [row] = rows(database)
    assert row.status == MailStatus.PENDING and row.recipient == "ann@example.com"
    assert send_due(database, s) == 1
    assert send_due(database, s) == 0  # once
    [env] = smtp.inbox.envelopes
    assert env.rcpt_tos == ["ann@example.com"] and env.mail_from == "tickets@shop.example"
    [msg] = smtp.inbox.messages()
    assert msg["To"].addresses[0].addr_spec == "ann@example.com"
    assert msg["Subject"] == f"Your tickets for Leather Workshop (order {o['orderNumber']})"
    assert msg["Message-ID"] == f"<{row.message_id}@shop.example>" and row.message_id == f"confirmation.{row.order_id}"
    files = attachments(msg)
    pdfs = [f for f in files if f[1] == "application/pdf"]
    assert [f[0] for f in pdfs] == [f"ticket-{t['ticketNumber']}.pdf" for t in o["tickets"]]
    for (_, _, data), t in zip(pdfs, o["tickets"], strict=True):
        assert data.startswith(b"%PDF")
        pages = PdfReader(io.BytesIO(data)).pages
        assert len(pages) == 1 and t["ticketNumber"] in pages[0].extract_text()
    [ics] = [f for f in files if f[1] == "text/calendar"]
    assert ics[0] == "event.ics"
    [vevent] = Calendar.from_ical(ics[2]).walk("VEVENT")
    def when(key: str) -> dt.datetime:  # iCalendar times are to the second
        return dt.datetime.fromisoformat(ev["dateAndTimeSettings"][key].replace("Z", "+00:00")).replace(microsecond=0)

    start, end = when("startDate"), when("endDate")
    assert vevent.decoded("dtstart") == start and vevent.decoded("dtend") == end
    assert str(vevent["summary"]) == "Leather Workshop" and str(vevent["location"]) == "Workshop, 1 Main St"
    # the bodies carry the order's signed link, on the configured public URL, and it opens
    text, html = bodies(msg)
    link = f"{PUBLIC}/boxoffice/v1/pdf/site-a/orders/{o['orderNumber']}.pdf?sig="
    assert link in text and link in html and "Leather Workshop" in html and "80.00 USD" in text
    url = next(w for w in text.split() if w.startswith(link))
    r = client.get(url.removeprefix(PUBLIC))
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    with database.session() as session:
        sent = session.get(MailMessage, row.id)
        assert sent.status == MailStatus.SENT and sent.attempts == 1 and sent.sent_date is not None


def test_free_order_and_offline_order_confirmed_later_mail_once_each(api, database, shop, smtp):
    ev, paid, free = shop
    s = settings_for(smtp.port)
    f = checkout(api, ev["id"], reserve(api, free["id"], 1)["id"])["order"]
    off = checkout(api, ev["id"], reserve(api, paid["id"], 1)["id"], options={"payInPerson": True})["order"]
    assert off["status"] == "OFFLINE_PENDING"
    assert send_due(database, s) == 1  # the free one; not the unpaid pay-in-person one
    assert [r.status for r in rows(database, f["orderNumber"])] == [MailStatus.SENT]
    assert rows(database, off["orderNumber"]) == []
    confirm = f"/events/v1/events/{ev['id']}/orders/confirm"
    assert api.post(confirm, {"orderNumber": [off["orderNumber"]]}).json()["orders"][0]["status"] == "PAID"
    assert api.post(confirm, {"orderNumber": [off["orderNumber"]]}).status_code == 200  # PAID stays PAID
    # a later change of the order (a check-in) is no confirmation
    check_in = api.post("/events/v1/tickets/check-in", {"eventId": ev["id"], "ticketNumber": [off["tickets"][0]["ticketNumber"]]})
    assert check_in.status_code == 200, check_in.text
    assert send_due(database, s) == 1
    assert send_due(database, s) == 0
    assert [r.status for r in rows(database, off["orderNumber"])] == [MailStatus.SENT]
    got = {m["To"].addresses[0].addr_spec: m for m in smtp.inbox.messages()}
    assert len(smtp.inbox.envelopes) == 2 and list(got) == ["ann@example.com"]
    subjects = sorted(m["Subject"] for m in smtp.inbox.messages())
    assert subjects == sorted(f"Your tickets for Leather Workshop (order {n})" for n in (f["orderNumber"], off["orderNumber"]))
    text, _ = bodies(smtp.inbox.messages()[0])
    assert "You're registered" in text and "total" not in text  # the free one says so


def test_declined_and_unpaid_orders_get_nothing(api, database, shop, smtp):
    ev, paid, _ = shop
    o = checkout(api, ev["id"], reserve(api, paid["id"], 1)["id"])["order"]
    api.post(f"/boxoffice/v1/test-payments/{o['orderNumber']}/decline")
    assert rows(database) == [] and send_due(database, settings_for(smtp.port)) == 0


def test_an_order_canceled_before_its_turn_is_skipped(api, database, shop, smtp):
    o = paid_order(api, shop)
    with database.session(write=True) as s:
        s.execute(update(Order).where(Order.order_number == o["orderNumber"]).values(status="CANCELED"))
    assert send_due(database, settings_for(smtp.port)) == 0
    [row] = rows(database)
    assert row.status == MailStatus.SKIPPED and "CANCELED" in row.last_error and smtp.inbox.envelopes == []


# --- never lost ----------------------------------------------------------------------------


def test_a_dead_smtp_server_delays_the_mail_and_never_loses_it(api, database, shop):
    port = free_port()  # nothing listens: connection refused
    s = settings_for(port)
    o = paid_order(api, shop)
    assert send_due(database, s) == 0
    [row] = rows(database)
    assert row.status == MailStatus.PENDING and row.attempts == 1 and row.lease_until is None
    assert "refused" in row.last_error.lower() or "connect" in row.last_error.lower()
    assert row.next_attempt_date > row.created_date
    assert send_due(database, s) == 0  # backing off: not due yet
    later = row.next_attempt_date + dt.timedelta(seconds=1)
    assert send_due(database, s, t=later) == 0  # still down: one more attempt, later still
    [row] = rows(database)
    assert row.status == MailStatus.PENDING and row.attempts == 2
    server = Smtp(port).start()
    try:
        assert send_due(database, s, t=row.next_attempt_date + dt.timedelta(seconds=1)) == 1
        assert send_due(database, s, t=row.next_attempt_date + dt.timedelta(hours=2)) == 0
        [msg] = server.inbox.messages()
        assert o["orderNumber"] in msg["Subject"]
    finally:
        server.stop()
    [row] = rows(database)
    assert row.status == MailStatus.SENT and row.attempts == 3 and row.last_error is None


def test_after_max_attempts_it_is_dead_and_a_resend_queues_it_again(api, database, shop):
    s = settings_for(free_port(), max_attempts=2)
    o = paid_order(api, shop)
    send_due(database, s)
    send_due(database, s, t=dt.datetime.now(dt.UTC) + dt.timedelta(hours=2))
    [row] = rows(database)
    assert row.status == MailStatus.DEAD and row.attempts == 2
    r = api.post(f"/boxoffice/v1/orders/{o['orderNumber']}/resend-confirmation")
    assert r.status_code == 200 and r.json()["message"]["status"] == "PENDING"


def test_a_refused_recipient_is_dead_at_once(api, database, shop, smtp):
    o = paid_order(api, shop)
    with database.session(write=True) as s:
        s.execute(update(MailMessage).values(recipient="ann@example.com, other@example.net"))
    assert send_due(database, settings_for(smtp.port)) == 0
    [row] = rows(database, o["orderNumber"])
    assert row.status == MailStatus.DEAD and row.attempts == 1 and smtp.inbox.envelopes == []


class Crash(BaseException):
    """The process dies: nothing after this point runs (not even recording)."""


class SendThenCrash:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def send(self, msg: EmailMessage, sender: str, recipient: str) -> None:
        self.inner.send(msg, sender, recipient)
        raise Crash


def test_a_sender_that_dies_mid_send_sends_once_more_after_the_lease(api, database, shop, smtp):
    s = settings_for(smtp.port)
    paid_order(api, shop)
    with pytest.raises(Crash):
        send_due(database, s, sender=SendThenCrash(s.sender()))
    [row] = rows(database)
    assert row.status == MailStatus.PENDING and row.lease_until is not None
    assert send_due(database, s) == 0  # leased: another worker does not take it
    after = row.lease_until + dt.timedelta(seconds=1)
    assert send_due(database, s, t=after) == 1  # the lease expired: sent once more
    assert send_due(database, s, t=after + dt.timedelta(hours=1)) == 0  # and no more
    ids = {m["Message-ID"] for m in smtp.inbox.messages()}
    assert len(smtp.inbox.envelopes) == 2 and ids == {f"<{row.message_id}@shop.example>"}


def test_a_worker_process_killed_mid_send_sends_once_more(api, database, shop, smtp):
    """A real `send_due` in a process of its own, killed (SIGKILL) while the SMTP server
    holds its DATA: the message goes again after the lease, once."""
    s = settings_for(smtp.port, lease_seconds=30.0)
    paid_order(api, shop)
    smtp.inbox.hold = threading.Event()
    url = database.engine.url.render_as_string(hide_password=False)
    code_ = (
        "from boxoffice.db import Database\n"
        "from boxoffice.mail import worker as w\n"
        f"w.send_due(Database({url!r}), w.MailSettings(smtp_url={s.smtp_url!r}, from_addr={s.from_addr!r}, "
        "public_url='https://x', timeout_seconds=20, lease_seconds=30))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code_], cwd=ROOT)
    try:
        assert smtp.inbox.received.wait(30), (proc.poll(), [(r.status, r.last_error) for r in rows(database)])
        assert proc.poll() is None  # still waiting for the server's answer
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        smtp.inbox.hold.set()
        if proc.poll() is None:
            proc.kill()
    smtp.inbox.hold = None
    [row] = rows(database)
    assert row.status == MailStatus.PENDING and row.lease_until is not None
    assert send_due(database, s) == 0  # its lease still holds
    after = row.lease_until + dt.timedelta(seconds=1)
    assert send_due(database, s, t=after) == 1
    assert send_due(database, s, t=after + dt.timedelta(hours=1)) == 0
    assert len(smtp.inbox.envelopes) == 2
    assert len({m["Message-ID"] for m in smtp.inbox.messages()}) == 1
    [row] = rows(database)
    assert row.status == MailStatus.SENT


def test_the_mail_loop_sends_as_soon_as_the_order_commits(api, database, shop, smtp):
    stop = threading.Event()
    loop = MailLoop(database, settings_for(smtp.port, idle_seconds=30.0))
    th = threading.Thread(target=loop.serve, args=(stop,), daemon=True)
    th.start()
    try:
        time.sleep(0.2)
        o = paid_order(api, shop)
        assert smtp.inbox.received.wait(10)  # woken by the commit, not by the 30 s idle wait
        assert o["orderNumber"] in smtp.inbox.messages()[0]["Subject"]
    finally:
        stop.set()
        worker.committed.set()
        th.join(10)


# --- without SMTP; templates --------------------------------------------------------------


def test_without_smtp_the_mail_is_an_eml_file(api, database, shop, tmp_path):
    s = MailSettings(smtp_url="", mail_dir=str(tmp_path / "outbox"), public_url=PUBLIC)
    o = paid_order(api, shop, quantity=3)
    assert send_due(database, s) == 1
    [path] = list((tmp_path / "outbox").iterdir())
    assert path.suffix == ".eml"
    msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert msg["To"].addresses[0].addr_spec == "ann@example.com" and o["orderNumber"] in msg["Subject"]
    files = attachments(msg)
    assert sum(1 for f in files if f[1] == "application/pdf" and f[2].startswith(b"%PDF")) == 3
    assert any(f[1] == "text/calendar" for f in files)


def test_templates_are_overridden_from_a_directory_and_html_is_escaped(api, database, shop, smtp, tmp_path):
    ev, paid, _ = shop
    (tmp_path / "confirmation_subject.txt").write_text("Order {{ order.number }}\n" + "x" * 500)
    s = settings_for(smtp.port, templates_dir=str(tmp_path))
    body = {"eventId": ev["id"], "reservationId": reserve(api, paid["id"], 1)["id"],
            "guests": [guest_form(first="<b>Ann</b>", email="ann@example.com")]}
    r = api.post("/events/v1/checkout", {**body, "options": {"payInPerson": True}})
    assert r.status_code == 200, r.text
    n = r.json()["order"]["orderNumber"]
    api.post(f"/events/v1/events/{ev['id']}/orders/confirm", {"orderNumber": [n]})
    assert send_due(database, s) == 1
    [msg] = smtp.inbox.messages()
    assert msg["Subject"].startswith(f"Order {n} xxx") and len(msg["Subject"]) == 200  # one bounded line
    text, html = bodies(msg)
    assert "Hello <b>Ann</b>," in text and "&lt;b&gt;Ann&lt;/b&gt;" in html and "<b>Ann</b>" not in html


# --- resend ------------------------------------------------------------------------------


def test_resend_through_the_api_is_a_new_message(api, database, shop, smtp):
    s = settings_for(smtp.port)
    o = paid_order(api, shop)
    send_due(database, s)
    r = api.post(f"/boxoffice/v1/orders/{o['orderNumber']}/resend-confirmation")
    assert r.status_code == 200, r.text
    m = r.json()["message"]
    assert m["status"] == "PENDING" and m["to"] == "ann@example.com" and m["orderNumber"] == o["orderNumber"]
    again = api.post(f"/boxoffice/v1/orders/{o['orderNumber']}/resend-confirmation")
    assert again.status_code == 428 and code(again) == "MAIL_ALREADY_QUEUED"
    assert send_due(database, s) == 1
    first, second = smtp.inbox.messages()
    assert first["Message-ID"] != second["Message-ID"] == f"<{m['messageId']}@shop.example>"
    assert second["To"].addresses[0].addr_spec == "ann@example.com"
    assert len(attachments(second)) == 3


def test_resend_refusals(api, make_api, database, shop):
    ev, paid, _ = shop
    o = paid_order(api, shop)
    path = f"/boxoffice/v1/orders/{o['orderNumber']}/resend-confirmation"
    visitor = make_api(identity="visitor")
    r = visitor.post(path)
    assert r.status_code == 403
    events_only = make_api(permissions={Permission.MANAGE_EVENTS})
    assert events_only.post(path).status_code == 403
    other = make_api(site="site-b")
    r = other.post(path)
    assert r.status_code == 404 and code(r) == "ORDER_NOT_FOUND"
    r = api.post("/boxoffice/v1/orders/ZZZZ-ZZZZ/resend-confirmation")
    assert r.status_code == 404 and code(r) == "ORDER_NOT_FOUND"
    assert api.post(f"/boxoffice/v1/orders/{'A' * 500}/resend-confirmation").status_code == 404
    pending = checkout(api, ev["id"], reserve(api, paid["id"], 1)["id"])["order"]
    r = api.post(f"/boxoffice/v1/orders/{pending['orderNumber']}/resend-confirmation")
    assert r.status_code == 428 and code(r) == "ORDER_NOT_CONFIRMED"
    assert len(rows(database)) == 1  # only the first confirmation: no refusal wrote anything


def test_resends_per_order_are_bounded(api, database, shop):
    from boxoffice.mail.models import MESSAGES_PER_ORDER_MAX

    o = paid_order(api, shop)
    with database.session(write=True) as s:
        s.execute(update(MailMessage).values(status=MailStatus.SENT))
    path = f"/boxoffice/v1/orders/{o['orderNumber']}/resend-confirmation"
    for _ in range(MESSAGES_PER_ORDER_MAX - 1):
        assert api.post(path).status_code == 200
        with database.session(write=True) as s:
            s.execute(update(MailMessage).values(status=MailStatus.SENT))
    r = api.post(path)
    assert r.status_code == 428 and code(r) == "MAIL_LIMIT_REACHED"


def test_resend_from_the_cli(api, database, shop, smtp, monkeypatch, capsys):
    from boxoffice import cli
    from boxoffice.config import get_settings

    s = settings_for(smtp.port)
    o = paid_order(api, shop)
    send_due(database, s)
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", database.engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        assert cli.main(["orders", "resend-confirmation", o["orderNumber"]]) == 0
        out = capsys.readouterr()
        assert "queued" in out.err and out.out.strip() == rows(database)[-1].id
        assert cli.main(["orders", "resend-confirmation", o["orderNumber"], "--site", "site-a"]) == 2  # one is waiting
        assert "still waiting" in capsys.readouterr().err
        assert send_due(database, s) == 1
        assert len(smtp.inbox.envelopes) == 2
        assert cli.main(["orders", "resend-confirmation", o["orderNumber"], "--site", "site-b"]) == 2
        assert "not found" in capsys.readouterr().err
        assert cli.main(["orders", "resend-confirmation", "ZZZZ-ZZZZ"]) == 2
        assert "not found" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()


# --- SMTP settings -----------------------------------------------------------------------


def test_smtp_urls_and_the_password_never_shows():
    t = parse_smtp_url("smtp://me%40shop.example:p%40ss%3Aword@mail.example:2525?starttls=1")
    assert (t.host, t.port, t.implicit_tls, t.starttls) == ("mail.example", 2525, False, True)
    assert (t.username, t.password) == ("me@shop.example", "p@ss:word")
    assert "p@ss" not in repr(t) and "p@ss" not in t.describe() and t.describe() == "smtp://me@shop.example:***@mail.example:2525"
    assert parse_smtp_url("smtps://u:p@mail.example").port == 465
    assert parse_smtp_url("smtp://mail.example?starttls=1").port == 587
    assert parse_smtp_url("smtp://mail.example").starttls is None
    s = MailSettings(smtp_url="smtp://u:hunter2@mail.example")
    assert "hunter2" not in repr(s) and "hunter2" not in s.describe()
    for bad in ("http://u:hunter2@mail.example", "smtp://u:hunter2@", "smtp://u:hunter2@h?starttls=maybe"):
        with pytest.raises(ValueError) as e:
            parse_smtp_url(bad)
        assert "hunter2" not in str(e.value)


def test_smtp_login_and_a_wrong_password_is_not_recorded(api, database, shop):
    def auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"shop", b"s3cret!")
        return AuthResult(success=ok, handled=False)

    server = Smtp(authenticator=auth, auth_require_tls=False).start()
    try:
        paid_order(api, shop)
        wrong = settings_for(server.port, smtp_url=f"smtp://shop:wrong-pass@127.0.0.1:{server.port}")
        assert send_due(database, wrong) == 0
        [row] = rows(database)
        assert row.status == MailStatus.PENDING and "wrong-pass" not in row.last_error and "Authentication" in row.last_error
        right = settings_for(server.port, smtp_url=f"smtp://shop:s3cret%21@127.0.0.1:{server.port}")
        assert send_due(database, right, t=row.next_attempt_date + dt.timedelta(seconds=1)) == 1
        assert len(server.inbox.envelopes) == 1
    finally:
        server.stop()


def test_a_password_is_not_sent_in_clear_to_another_host(monkeypatch):
    sent: list[str] = []

    class Fake:
        def __init__(self, *a: Any, **kw: Any) -> None:
            self.sock = object()

        def ehlo(self) -> None: ...
        def has_extn(self, name: str) -> bool: return False
        def login(self, user: str, password: str) -> None: sent.append(password)
        def close(self) -> None: ...

    monkeypatch.setattr("boxoffice.mail.sender.smtplib.SMTP", Fake)
    with pytest.raises(ConnectionError) as e:
        SmtpSender(parse_smtp_url("smtp://u:pw@mail.example"), 5).send(EmailMessage(), "a@b.example", "c@d.example")
    assert "unencrypted" in str(e.value) and sent == []


def test_only_one_plain_address_is_ever_a_recipient():
    assert check_recipient(" ann@example.com ") == "ann@example.com"
    for bad in ("a@b.com, c@d.com", "Ann <a@b.com>", "a@b.com\r\nBcc: c@d.com", "a@b", "@b.com", "a" * 250 + "@b.com", "a b@c.com"):
        with pytest.raises(PermanentFailure):
            check_recipient(bad)
