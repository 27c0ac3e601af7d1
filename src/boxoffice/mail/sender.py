"""Where a composed message goes: an SMTP server (``BOXOFFICE_SMTP_URL``, the stdlib's
``smtplib``, run in the mail worker's thread) or, with no server configured, a
directory of ``.eml`` files (``BOXOFFICE_MAIL_DIR``) that a developer can open.

``smtplib`` rather than ``aiosmtplib``: the worker is a thread like the webhook worker,
sends one message at a time, and the stdlib needs no new dependency.

The SMTP password is never logged, never put in an error we record, and never in a
``repr`` (:class:`SmtpTarget` hides it; ``describe`` shows ``user:***@host``).
"""

from __future__ import annotations

import os
import re
import smtplib
import socket
import ssl
import threading
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit


class PermanentFailure(Exception):
    """Sending this message again will not help (the server refused the recipient or the
    message for good): the message is DEAD at once."""


class Sender(Protocol):
    def send(self, msg: EmailMessage, sender: str, recipient: str) -> None:
        """Hand ``msg`` over for ``recipient`` (the SMTP envelope), or raise."""


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    implicit_tls: bool  # smtps://: TLS from the first byte
    starttls: bool | None  # True: required; False: never; None: if the server offers it
    username: str = ""
    password: str = field(default="", repr=False)

    def describe(self) -> str:
        """For logs and errors: the URL without the password."""
        who = f"{self.username}:***@" if self.username else ""
        return f"{'smtps' if self.implicit_tls else 'smtp'}://{who}{self.host}:{self.port}"


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def parse_smtp_url(url: str) -> SmtpTarget:
    """``smtp://user:pass@host:587?starttls=1`` or ``smtps://user:pass@host:465``.
    User and password are percent-decoded. The error never repeats the URL (it may hold
    the password)."""
    try:
        parts = urlsplit(url.strip())
        scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
    except ValueError:
        raise ValueError("BOXOFFICE_SMTP_URL is not a URL") from None
    if scheme not in ("smtp", "smtps") or not host:
        raise ValueError("BOXOFFICE_SMTP_URL must be smtp://[user:password@]host[:port][?starttls=1] or smtps://...")
    query = {k.lower(): v[-1].strip().lower() for k, v in parse_qs(parts.query).items()}
    starttls: bool | None = None
    if "starttls" in query:
        if query["starttls"] not in _TRUE | _FALSE:
            raise ValueError("BOXOFFICE_SMTP_URL: starttls must be 1 or 0")
        starttls = query["starttls"] in _TRUE
    implicit = scheme == "smtps"
    return SmtpTarget(
        host=host,
        port=port or (465 if implicit else 587 if starttls else 25),
        implicit_tls=implicit,
        starttls=False if implicit else starttls,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
    )


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


class SmtpSender:
    """One SMTP connection per message, under a total deadline: ``timeout`` bounds each
    socket operation, and a timer shuts the socket down if the whole conversation takes
    longer (a server that drips bytes cannot hold the worker)."""

    def __init__(self, target: SmtpTarget, timeout: float, tls: ssl.SSLContext | None = None) -> None:
        self.target, self.timeout = target, timeout
        self.tls = tls or ssl.create_default_context()

    def send(self, msg: EmailMessage, sender: str, recipient: str) -> None:
        t = self.target
        client: smtplib.SMTP | None = None
        expired = threading.Event()

        def cut() -> None:
            expired.set()
            sock = getattr(client, "sock", None)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        timer = threading.Timer(self.timeout, cut)
        timer.daemon = True
        timer.start()
        try:
            if t.implicit_tls:
                client = smtplib.SMTP_SSL(t.host, t.port, timeout=self.timeout, context=self.tls)
            else:
                client = smtplib.SMTP(t.host, t.port, timeout=self.timeout)
            client.ehlo()
            if t.starttls or (t.starttls is None and client.has_extn("starttls")):
                client.starttls(context=self.tls)
                client.ehlo()
            if t.username:
                # a password goes only over TLS, except to this machine (a local relay)
                if not isinstance(client.sock, ssl.SSLSocket) and not _is_loopback(t.host):
                    raise ConnectionError("refusing to send the SMTP password unencrypted (use starttls=1 or smtps://)")
                client.login(t.username, t.password)
            try:
                client.send_message(msg, from_addr=sender, to_addrs=[recipient])
            except smtplib.SMTPRecipientsRefused as e:
                codes = [c for c, _ in e.recipients.values()]
                if codes and all(c >= 500 for c in codes):
                    raise PermanentFailure(f"the SMTP server refused the recipient ({codes[0]})") from None
                raise
            except smtplib.SMTPDataError as e:
                if e.smtp_code >= 500:
                    raise PermanentFailure(f"the SMTP server refused the message ({e.smtp_code} {_text(e.smtp_error)})") from None
                raise
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                pass  # accepted already: the QUIT's answer changes nothing
        except (OSError, smtplib.SMTPException) as e:
            if expired.is_set():
                raise TimeoutError(f"no complete SMTP conversation within {self.timeout:g} s") from None
            raise _safe(e, t) from None
        finally:
            timer.cancel()
            if client is not None:
                try:
                    client.close()
                except OSError:
                    pass


def _text(b: bytes | str) -> str:
    s = b.decode("utf-8", "replace") if isinstance(b, bytes) else str(b)
    return " ".join(s.split())[:200]


def _safe(e: BaseException, t: SmtpTarget) -> Exception:
    """The error to record: its type and the server's words, never the password."""
    text = str(e)
    if t.password:
        text = text.replace(t.password, "***")
    return ConnectionError(f"{type(e).__name__}: {text}"[:400] if text else type(e).__name__)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class DirSender:
    """No SMTP server configured: each message becomes ``<message-id>.eml`` in a
    directory (written whole, then renamed, so a reader never sees half a file; the same
    message twice overwrites itself)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.dir = Path(directory)

    def send(self, msg: EmailMessage, sender: str, recipient: str) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        mid = parseaddr(str(msg["Message-ID"] or ""))[1] or str(msg["Message-ID"] or uuid.uuid4())
        name = _UNSAFE.sub("_", mid.strip("<>"))[:180] or uuid.uuid4().hex
        final = self.dir / f"{name}.eml"
        tmp = self.dir / f".{name}.{uuid.uuid4().hex}.tmp"
        tmp.write_bytes(bytes(msg))
        os.replace(tmp, final)
