"""SSRF through webhook URLs (issue 9, finding 5).

A site owner (a `wix-user` key) is a tenant: the admin API refuses URLs that reach the
operator's network (loopback, private, link-local, metadata, odd IPv4 spellings,
credentials, hostnames resolving to any of those), unless the operator sets
BOXOFFICE_WEBHOOK_ALLOW_PRIVATE_URLS. The worker checks again at send time on the
addresses it connects to, so a name that resolved to a public address when it was
added and to 127.0.0.1 later (DNS rebinding) is refused before any connection. The
operator's CLI may add a private URL (with a warning), and that subscription is then
delivered.

Hostnames are answered by a fake resolver (socket.getaddrinfo patched): no DNS query
leaves the machine, and nothing but 127.0.0.1 is ever connected to.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from boxoffice.app import create_app
from boxoffice.auth import create_api_key
from boxoffice.config import Settings
from boxoffice.identity import IdentityType
from boxoffice.limits import MAX_SUBSCRIPTIONS_PER_SITE
from boxoffice.outbox.models import WebhookDelivery, WebhookSubscription
from boxoffice.webhooks import service as webhooks
from boxoffice.webhooks.worker import Worker, WorkerSettings
from tests.conftest import Api
from tests.helpers import create_event

BOXOFFICE = str(Path(sys.executable).parent / "boxoffice")
HOOKS = "/boxoffice/v1/webhooks"
PUBLIC = "93.184.215.14"  # never connected to: only ever an answer of the fake resolver / an IP literal


class FakeDNS:
    """socket.getaddrinfo for names ending in `.test`; other names go to the real one."""

    def __init__(self, real) -> None:  # noqa: ANN001
        self.real = real
        self.answers: dict[str, list[str]] = {}
        self.asked: list[str] = []

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):  # noqa: ANN001, A002
        name = host.decode() if isinstance(host, bytes) else str(host)
        if not name.endswith(".test"):
            return self.real(host, port, family, type, proto, flags)
        self.asked.append(name)
        if name not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        out = []
        for ip in self.answers[name]:
            if ":" in ip:
                out.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, int(port or 0), 0, 0)))
            else:
                out.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, int(port or 0))))
        return out


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDNS:
    fake = FakeDNS(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections it accepts (and answers
    200 to whatever request comes, so that it can also be a working receiver)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.requests = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            while len(body) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                body += chunk
            self.requests += 1
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def listener():
    lst = Listener()
    yield lst
    lst.close()


def violation(r) -> dict:  # noqa: ANN001
    assert r.status_code == 400, r.text
    return r.json()["details"]["validationError"]["fieldViolations"][0]


REFUSED = [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://127.0.0.1:5432/",
    "http://127.0.0.1./x",
    "http://localhost:8080/hook",
    "http://api.localhost/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[::ffff:a9fe:a9fe]/hook",  # 169.254.169.254, IPv4-mapped
    "http://0x7f000001/hook",
    "http://2130706433/hook",
    "http://0177.0.0.1/hook",
    "http://127.1/hook",
    "http://10.0.0.1/hook",
    "http://172.16.5.4/hook",
    "http://192.168.1.10/hook",
    "http://100.64.0.1/hook",  # CGNAT
    "http://0.0.0.0:8000/hook",
    "http://[::]/hook",
    "http://224.0.0.1/hook",
    "http://240.0.0.1/hook",
    "http://[fc00::1]/hook",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://[fe80::1]/hook",
    "http://[fe80::1%25eth0]/hook",
    "http://168.63.129.16/machine",  # Azure's wire server
    f"http://user:pass@{PUBLIC}/hook",
    f"https://token@{PUBLIC}/hook",
    "ftp://example.com/hook",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "http:///hook",
    "http://metadata.test/computeMetadata/v1/",  # fake DNS: 169.254.169.254
    "http://internal.test/hook",  # fake DNS: 10.1.2.3
    "http://mixed.test/hook",  # fake DNS: a public address AND 127.0.0.1
    "http://v6loop.test/hook",  # fake DNS: ::1
    "http://nxdomain.test/hook",  # fake DNS: no such name
]


def test_admin_api_refuses_urls_that_reach_the_operators_network(make_api, dns: FakeDNS) -> None:
    dns.answers.update({
        "metadata.test": ["169.254.169.254"],
        "internal.test": ["10.1.2.3"],
        "mixed.test": [PUBLIC, "127.0.0.1"],
        "v6loop.test": ["::1"],
    })
    owner = make_api(identity="wix-user")
    accepted = {}
    for url in REFUSED:
        r = owner.post(HOOKS, {"url": url, "eventTypes": ["*"]})
        if r.status_code != 400:
            accepted[url] = r.status_code
            continue
        v = violation(r)
        assert v["field"] == "url" and v["description"], (url, v)
        assert r.json()["message"].startswith('INVALID_ARGUMENT: "url"'), (url, r.json())
    assert accepted == {}, f"accepted (or not 400): {accepted}"
    assert owner.get(HOOKS).json()["webhooks"] == []
    # the reason is given
    assert "loopback" in violation(owner.post(HOOKS, {"url": "http://127.0.0.1:5432/"}))["description"]
    assert "credentials" in violation(owner.post(HOOKS, {"url": f"http://u:p@{PUBLIC}/"}))["description"]
    assert "127.0.0.1" in violation(owner.post(HOOKS, {"url": "http://mixed.test/"}))["description"]


def test_admin_api_accepts_public_urls(make_api, dns: FakeDNS) -> None:
    dns.answers["hooks.test"] = [PUBLIC, "2606:4700::1111"]
    owner = make_api(identity="wix-user")
    for url in (f"https://{PUBLIC}/hook", "https://hooks.test/wix?x=1", "http://[2606:4700::1111]:8443/h"):
        r = owner.post(HOOKS, {"url": url, "eventTypes": ["*"]})
        assert r.status_code == 200, (url, r.text)
    assert len(owner.get(HOOKS).json()["webhooks"]) == 3


def test_a_site_has_a_bounded_number_of_subscriptions(make_api) -> None:
    owner, other = make_api(identity="wix-user"), make_api(site="site-b", identity="wix-user")
    for i in range(MAX_SUBSCRIPTIONS_PER_SITE):
        r = owner.post(HOOKS, {"url": f"https://{PUBLIC}/hook/{i}"})
        assert r.status_code == 200, (i, r.text)
    r = owner.post(HOOKS, {"url": f"https://{PUBLIC}/hook/one-too-many"})
    assert r.status_code == 400 and str(MAX_SUBSCRIPTIONS_PER_SITE) in violation(r)["description"], r.text
    assert len(owner.get(HOOKS).json()["webhooks"]) == MAX_SUBSCRIPTIONS_PER_SITE
    assert other.post(HOOKS, {"url": f"https://{PUBLIC}/hook"}).status_code == 200  # per site


def test_private_urls_are_accepted_when_the_operator_allows_them(database, app) -> None:  # noqa: ARG001 - app wipes
    allowing = create_app(
        Settings(database_url=str(database.engine.url), background=False, webhook_allow_private_urls=True), db=database
    )
    with database.session(write=True) as s:
        key = create_api_key(s, "site-a", IdentityType.WIX_USER)
    with TestClient(allowing) as c:
        owner = Api(c, key, "site-a")
        for url in ("http://127.0.0.1:9/hook", "http://localhost:8080/hook", "http://10.0.0.1/hook", "http://[::1]/h"):
            r = owner.post(HOOKS, {"url": url, "eventTypes": ["*"]})
            assert r.status_code == 200, (url, r.text)
        # what is never allowed: credentials, other schemes, ambiguous spellings
        for url in ("http://u:p@127.0.0.1/", "ftp://127.0.0.1/", "http://0x7f000001/", "http://127.1/"):
            assert owner.post(HOOKS, {"url": url}).status_code == 400, url


def _deliveries(database) -> list[WebhookDelivery]:  # noqa: ANN001
    with database.session() as s:
        return list(s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_a_name_that_rebinds_to_loopback_is_refused_at_send_time_without_connecting(
    make_api, database, dns: FakeDNS, listener: Listener, caplog: pytest.LogCaptureFixture
) -> None:
    owner, app_key = make_api(identity="wix-user"), make_api(identity="app")
    # When it is added the name resolves to a public address ...
    dns.answers["rebind.test"] = [PUBLIC]
    r = owner.post(HOOKS, {"url": f"http://rebind.test:{listener.port}/hook", "eventTypes": ["*"]})
    assert r.status_code == 200, r.text
    sub_id = r.json()["webhook"]["id"]
    # ... and later to 127.0.0.1, where the listener waits (DNS rebinding).
    dns.answers["rebind.test"] = ["127.0.0.1"]
    dns.asked.clear()
    create_event(app_key)
    worker = Worker(database, WorkerSettings(timeout_seconds=3, backoff_base=0.001, backoff_cap=0.002))
    try:
        with caplog.at_level(logging.WARNING, logger="boxoffice.worker"):
            assert worker.run_once() >= 1
    finally:
        worker.close()
    assert "rebind.test" in dns.asked, "the worker must resolve the name itself"
    [d] = _deliveries(database)
    assert d.status == "PENDING" and d.attempts == 1 and d.delivered_date is None, (d.status, d.attempts)
    assert d.last_error and "Refused" in d.last_error and "127.0.0.1" in d.last_error and "loopback" in d.last_error
    assert listener.connections == 0, "the worker connected to a refused address"
    # one structured log line per failed attempt, without the body or the token
    [rec] = [r for r in caplog.records if r.name == "boxoffice.worker" and getattr(r, "delivery_id", None) == d.id]
    assert rec.subscription_id == sub_id and rec.event_type.startswith("wix.events.") and "Refused" in rec.error
    assert "eyJ" not in rec.getMessage()


def test_a_subscription_without_permission_is_refused_at_send_time(make_api, database, listener: Listener) -> None:
    # e.g. one added before the policy existed, or straight through the service layer
    app_key = make_api(identity="app")
    with database.session(write=True) as s:
        webhooks.add(s, "site-a", f"http://127.0.0.1:{listener.port}/hook", ["*"])
        webhooks.add(s, "site-a", f"http://localhost:{listener.port}/hook", ["*"])
    create_event(app_key)
    worker = Worker(database, WorkerSettings(timeout_seconds=3))
    try:
        worker.run_once()
    finally:
        worker.close()
    ds = _deliveries(database)
    assert len(ds) == 2 and all(d.attempts == 1 and d.status == "PENDING" for d in ds)
    assert all("Refused" in d.last_error and "loopback" in d.last_error for d in ds), [d.last_error for d in ds]
    assert listener.connections == 0


def test_the_setting_lets_the_worker_send_to_private_addresses(make_api, database, listener: Listener) -> None:
    app_key = make_api(identity="app")
    with database.session(write=True) as s:
        webhooks.add(s, "site-a", f"http://127.0.0.1:{listener.port}/hook", ["*"])
    create_event(app_key)
    worker = Worker(database, WorkerSettings(timeout_seconds=3, allow_private_urls=True))
    try:
        worker.run_once()
    finally:
        worker.close()
    [d] = _deliveries(database)
    assert d.status == "DELIVERED", d.last_error
    assert listener.requests == 1


def test_the_operator_cli_adds_a_loopback_url_with_a_warning_and_it_is_delivered(
    make_api, database, listener: Listener
) -> None:
    url = str(database.engine.url.render_as_string(hide_password=False))
    env = {**os.environ, "BOXOFFICE_DATABASE_URL": url}
    env.pop("BOXOFFICE_WEBHOOK_ALLOW_PRIVATE_URLS", None)
    hook = f"http://127.0.0.1:{listener.port}/hook"
    r = subprocess.run([BOXOFFICE, "webhooks", "add", "--site", "site-a", "--url", hook],
                       env=env, capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 0, r.stderr
    assert "warning" in r.stderr and "loopback" in r.stderr, r.stderr
    sub_id = r.stdout.strip().splitlines()[-1]
    with database.session() as s:
        sub = s.get(WebhookSubscription, sub_id)
        assert sub is not None and sub.url == hook and sub.allow_private is True
    # credentials stay refused, even for the operator
    r = subprocess.run([BOXOFFICE, "webhooks", "add", "--site", "site-a", "--url", "http://u:p@127.0.0.1/"],
                       env=env, capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 2 and "credentials" in r.stderr, (r.returncode, r.stderr)
    # with the setting off, the worker still delivers the operator's subscription
    create_event(make_api(identity="app"))
    worker = Worker(database, WorkerSettings(timeout_seconds=3, allow_private_urls=False))
    try:
        worker.run_once()
    finally:
        worker.close()
    [d] = _deliveries(database)
    assert d.status == "DELIVERED", d.last_error
    assert listener.requests == 1
