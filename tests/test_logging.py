"""JSON logs (BOXOFFICE_LOG_FORMAT=json, issue 13): a real `boxoffice serve` whose
every stderr line is one JSON object, one `boxoffice.request` line per request (request
id, method, route template, site, status, duration), a failed webhook attempt logged
as JSON too; and nothing secret in any of it: not the API key, not a PDF link's
signature, not a ticket's QR code, not a webhook's JWT."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.helpers import event_body, free_port, td_body, wait_healthy

BIN = str(Path(sys.executable).parent / "boxoffice")


def test_json_logs_hold_every_request_and_no_secret(tmp_path):
    env = {
        **os.environ, "BOXOFFICE_DATABASE_URL": f"sqlite:///{tmp_path / 'logs.db'}", "BOXOFFICE_LOG_FORMAT": "json",
        "BOXOFFICE_TEST_PAYMENTS": "1", "BOXOFFICE_WEBHOOK_ALLOW_PRIVATE_URLS": "1", "BOXOFFICE_MAIL_DIR": str(tmp_path / "mail"),
        "BOXOFFICE_WEBHOOK_BACKOFF_SECONDS": "0.1",
    }
    run = lambda *a: subprocess.run([BIN, *a], env=env, capture_output=True, text=True, timeout=60)  # noqa: E731
    assert run("migrate").returncode == 0
    key = run("keys", "create", "--site", "log-site", "--identity", "app").stdout.strip().splitlines()[-1]
    owner = run("keys", "create", "--site", "log-site", "--identity", "wix-user").stdout.strip().splitlines()[-1]
    port = free_port()
    proc = subprocess.Popen([BIN, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    secrets: list[str] = [key, owner]
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base)
        h = {"Authorization": key, "wix-site-id": "log-site"}
        # a subscription whose deliveries fail (nothing listens on port 9): attempts are logged
        assert httpx.post(f"{base}/boxoffice/v1/webhooks", headers={"Authorization": owner, "wix-site-id": "log-site"},
                          json={"url": "http://127.0.0.1:9/hook", "eventTypes": ["*"]}).status_code == 200
        ev = httpx.post(f"{base}/events/v3/events", json=event_body(draft=False), headers=h).json()["event"]
        td = httpx.post(f"{base}/events-ticket-definitions/v3/ticket-definitions", json=td_body(ev["id"]), headers=h).json()["ticketDefinition"]
        r = httpx.post(f"{base}/events/v1/ticket-reservations", headers=h,
                       json={"ticketReservation": {"tickets": [{"ticketDefinitionId": td["id"], "quantity": 1}]}}).json()
        o = httpx.post(f"{base}/events/v1/checkout", headers=h, json={
            "eventId": ev["id"], "reservationId": r["ticketReservation"]["id"], "options": {"markAsPaid": True},
            "guests": [{"form": {"inputValues": [{"inputName": "firstName", "value": "A"}, {"inputName": "lastName", "value": "B"},
                                                 {"inputName": "email", "value": "a@example.com"}]}}],
        }).json()["order"]
        number = o["tickets"][0]["ticketNumber"]
        qr = httpx.get(f"{base}/events/v1/tickets/{number}", params={"fieldset": "TICKET_DETAILS"}, headers=h).json()["ticket"]["qrCode"]
        sig = o["ticketsPdf"].rpartition("sig=")[2]
        secrets += [qr, sig]
        assert httpx.get(o["ticketsPdf"]).status_code == 200
        assert httpx.post(f"{base}/boxoffice/v1/check-in/scan", headers=h, json={"code": qr}).status_code == 200
        assert httpx.post(f"{base}/boxoffice/v1/check-in/scan", headers=h, json={"code": qr}).status_code == 428
        time.sleep(1.5)  # the worker tries the deliveries (and fails) meanwhile
    finally:
        proc.terminate()
        out = proc.communicate(timeout=15)[0].decode()
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]  # every line is JSON
    requests = [x for x in lines if x.get("name") == "boxoffice.request"]
    assert {"request_id", "method", "route", "site", "status", "duration_ms"} <= set(requests[0]), requests[0]
    scans = [x for x in requests if x["route"] == "/boxoffice/v1/check-in/scan"]
    assert [x["status"] for x in scans] == [200, 428] and all(x["site"] == "log-site" for x in scans)
    assert any(x["route"].startswith("/boxoffice/v1/pdf/") and x["status"] == 200 for x in requests)
    failed = [x for x in lines if x.get("name") == "boxoffice.worker" and x.get("levelname") == "WARNING"]
    assert failed and failed[0].get("event_id"), lines[-5:]
    for secret in secrets:
        assert secret not in out
    assert "eyJ" not in out  # no JWT (a webhook body is one), nor anything base64-JSON like it
