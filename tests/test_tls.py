"""TLS and reverse proxies (issue 13): `boxoffice serve --tls-self-signed` (a trustme
development CA, made once and reused) answers HTTPS that the official Wix SDK reaches
through its own `apiBaseUrl` option, with no custom fetch, trusting the CA by
NODE_EXTRA_CA_CERTS; and behind a proxy, links carry the public scheme and host
only when the proxy is one `--forwarded-allow-ips` names."""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI, ROOT
from tests.helpers import event_body, free_port, td_body, wait_healthy

BIN = str(Path(sys.executable).parent / "boxoffice")


def cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BIN, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


@contextmanager
def serving(tmp_path: Path, *extra: str) -> Iterator[tuple[str, dict[str, str], str]]:
    """A migrated SQLite server with `extra` flags; yields (port, env, app key)."""
    env = {**os.environ, "BOXOFFICE_DATABASE_URL": f"sqlite:///{tmp_path / 'tls.db'}", "BOXOFFICE_BACKGROUND": "0"}
    assert cli(["migrate"], env, tmp_path).returncode == 0
    key = cli(["keys", "create", "--site", "tls-site", "--identity", "app"], env, tmp_path).stdout.strip().splitlines()[-1]
    port = str(free_port())
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([BIN, "serve", "--port", port, "--no-access-log", *extra], env=env, cwd=tmp_path, stdout=log, stderr=log)
    try:
        yield port, env, key
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()


def test_self_signed_tls_and_the_sdk_over_its_own_api_base_url(tmp_path):
    if shutil.which("node") is None:
        if IN_CI:
            pytest.fail("node is not installed")
        pytest.skip("node is not installed")
    with serving(tmp_path, "--tls-self-signed", "--tls-dir", str(tmp_path / "tls")) as (port, env, key):
        ca = tmp_path / "tls" / "ca.pem"
        for _ in range(100):
            if ca.exists():
                break
            time.sleep(0.1)
        wait_healthy(f"https://127.0.0.1:{port}", verify=ssl.create_default_context(cafile=str(ca)))
        with pytest.raises(httpx.ConnectError):  # not trusted without the CA
            httpx.get(f"https://127.0.0.1:{port}/healthz", timeout=5)
        assert "NODE_EXTRA_CA_CERTS" in (tmp_path / "serve.log").read_text()
        node_env = {**env, "NODE_EXTRA_CA_CERTS": str(ca), "BOXOFFICE_TLS_API_BASE": f"127.0.0.1:{port}",
                    "BOXOFFICE_API_KEY": key, "BOXOFFICE_SITE_ID": "tls-site"}
        r = subprocess.run(["node", "--test", "over_tls.mjs"], cwd=ROOT / "conformance", env=node_env,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0 and "# pass 1" in r.stdout, r.stdout[-3000:] + r.stderr[-2000:]
    # the CA is made once: a second start reuses it (a browser or Node trusts it once)
    first = ca.read_bytes()
    with serving(tmp_path, "--tls-self-signed", "--tls-dir", str(tmp_path / "tls")) as (port, _, _):
        wait_healthy(f"https://127.0.0.1:{port}", verify=ssl.create_default_context(cafile=str(ca)))
    assert ca.read_bytes() == first


def test_tls_flags_are_checked(tmp_path):
    env = {**os.environ, "BOXOFFICE_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    assert cli(["migrate"], env, tmp_path).returncode == 0
    r = cli(["serve", "--tls-cert", "a.pem"], env, tmp_path)
    assert r.returncode == 2 and "go together" in r.stderr
    r = cli(["serve", "--tls-self-signed", "--tls-cert", "a.pem", "--tls-key", "b.pem"], env, tmp_path)
    assert r.returncode == 2 and "not both" in r.stderr


@pytest.mark.parametrize("trusted", [True, False])
def test_links_behind_a_reverse_proxy(tmp_path, trusted):
    """A proxy terminating TLS sends X-Forwarded-Proto and the public Host: the PDF and
    check-in links in answers use them, if the proxy's address is trusted."""
    allow = "127.0.0.1" if trusted else "10.9.9.9"
    with serving(tmp_path, "--forwarded-allow-ips", allow) as (port, _, key):
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base)
        h = {"Authorization": key, "wix-site-id": "tls-site"}
        ev = httpx.post(f"{base}/events/v3/events", json=event_body(draft=False), headers=h).json()["event"]
        td = httpx.post(f"{base}/events-ticket-definitions/v3/ticket-definitions", json=td_body(ev["id"], initialLimit=5), headers=h).json()["ticketDefinition"]
        r = httpx.post(f"{base}/events/v1/ticket-reservations", headers=h,
                       json={"ticketReservation": {"tickets": [{"ticketDefinitionId": td["id"], "quantity": 1}]}}).json()
        proxied = {**h, "Host": "tickets.example.org", "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
        o = httpx.post(f"{base}/events/v1/checkout", headers=proxied, json={
            "eventId": ev["id"], "reservationId": r["ticketReservation"]["id"], "options": {"markAsPaid": True},
            "guests": [{"form": {"inputValues": [{"inputName": "firstName", "value": "A"}, {"inputName": "lastName", "value": "B"},
                                                 {"inputName": "email", "value": "a@example.com"}]}}],
        }).json()["order"]
        scheme = "https" if trusted else "http"
        assert o["ticketsPdf"].startswith(f"{scheme}://tickets.example.org/boxoffice/v1/pdf/"), o["ticketsPdf"]
        assert o["tickets"][0]["checkInUrl"].startswith(f"{scheme}://tickets.example.org/")
