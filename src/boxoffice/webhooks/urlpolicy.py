"""Where webhooks may go: the URL policy that keeps a tenant from aiming deliveries at
the operator's own network (SSRF).

A site owner adds subscriptions through the admin API: a tenant, not the operator. A
URL of theirs must be http(s), carry no credentials, name its host plainly (no
``0x7f000001``, ``2130706433``, ``0177.0.0.1`` or ``127.1``: each parser reads those
differently) and resolve only to public addresses: never loopback, private (RFC 1918,
ULA ``fc00::/7``), link-local (``169.254/16``, ``fe80::/10``), unspecified, multicast,
reserved, shared (CGNAT ``100.64/10``), a cloud metadata address, or an IPv6 address
that embeds one of those (IPv4-mapped, 6to4, NAT64). The operator may lift the address
rule for everyone (``BOXOFFICE_WEBHOOK_ALLOW_PRIVATE_URLS=1``) or for one subscription
(``boxoffice webhooks add``, stored as ``allow_private``).

It is checked twice: when the subscription is added (a clear 400), and at every send on
the addresses actually connected to (:class:`Backend`): the host is resolved once,
every address checked, and the connection made to a checked address, so a name that
changes its answer (DNS rebinding) cannot slip a private address in between.

The address classes come from the standard library's :mod:`ipaddress` (``is_global``
and friends, IANA's special-purpose registries); what is written here is only the
glue: which classes are refused, the odd-spelling rule, and the resolve-then-connect.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import threading
import time
import typing
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpcore

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services (most are link-local or private anyway; Azure's wire server
# and the Alibaba one are not caught by the classes below alone).
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "168.63.129.16", "192.0.0.192")
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# WHATWG URL: a host whose last label is a number is an IPv4 address, in any of the
# spellings inet_aton accepts (hex, octal, fewer than four parts).
_NUMERIC_LABEL = re.compile(r"^(?:[0-9]+|0[xX][0-9a-fA-F]*)$")
_HOST_CHARS = re.compile(r"^[a-z0-9.\-_]+$")


class Refused(ValueError):
    """A URL or address the policy refuses. ``address`` is true when only the address
    rule (lifted for operators) refused it; false for a malformed or ambiguous URL."""

    def __init__(self, reason: str, *, address: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.address = reason, address


def address_refusal(addr: IPAddress) -> str | None:
    """Why ``addr`` is not a public unicast address, or None if it is one."""
    if isinstance(addr, ipaddress.IPv6Address):
        embedded = addr.ipv4_mapped or addr.sixtofour
        if embedded is None and addr in _NAT64:
            embedded = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
        if embedded is not None:
            inner = address_refusal(embedded)
            if inner:
                return f"{inner}, embedded in an IPv6 address"
    if addr in METADATA:
        return "a cloud metadata address"
    if addr.is_loopback:
        return "loopback"
    if addr.is_unspecified:
        return "unspecified"
    if addr.is_link_local:
        return "link-local"
    if addr.is_multicast:
        return "multicast"
    if addr.version == 4 and addr in _CGNAT:
        return "shared address space (CGNAT)"
    if addr.is_reserved:
        return "reserved"
    if addr.is_private:
        return "private"
    if addr.version == 6 and addr.is_site_local:
        return "site-local"
    if not addr.is_global:
        return "not globally routable"
    return None


def check_address(addr: str | IPAddress) -> None:
    """Raise :class:`Refused` unless ``addr`` is a public address."""
    ip = ipaddress.ip_address(addr.split("%", 1)[0] if isinstance(addr, str) else addr)
    reason = address_refusal(ip)
    if reason:
        raise Refused(f"{ip} is not a public address ({reason})", address=True)


def parse(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL the policy accepts in form, whatever its address;
    raises :class:`Refused` otherwise. Parsed with :func:`urllib.parse.urlsplit`, as the
    sender (httpcore) parses it."""
    if not isinstance(url, str) or not url.isascii() or any(c.isspace() or ord(c) < 32 for c in url) or "\\" in url:
        raise Refused("must be an ASCII http(s) URL without spaces or backslashes (write an IDN host as xn--)")
    try:
        u = urlsplit(url)
        port = u.port
    except ValueError as e:
        raise Refused(f"is not a valid URL ({e})") from None
    scheme = u.scheme.lower()
    if scheme not in ("http", "https") or not u.netloc:
        raise Refused("must be an http(s) URL")
    if "@" in u.netloc or u.username is not None or u.password is not None:
        raise Refused("must not carry credentials (user:password@)")
    host = (u.hostname or "").rstrip(".")
    if not host:
        raise Refused("has no host")
    if "%" in host:
        raise Refused("has a percent-encoded or scoped host")
    if port == 0:
        raise Refused("has port 0")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ("[" in u.netloc) != (ip is not None and ip.version == 6):
        raise Refused("has a malformed host (only an IPv6 address goes in brackets)")
    if ip is None:
        if ":" in host or not _HOST_CHARS.match(host) or any(not label for label in host.split(".")):
            raise Refused("has a malformed host")
        if _NUMERIC_LABEL.match(host.split(".")[-1]):
            raise Refused(
                "spells an IPv4 address in a non-standard form (hex, octal, a single number or fewer than four "
                "parts); write it as four decimal numbers"
            )
    return scheme, host, port or (443 if scheme == "https" else 80)


# Subscribe-time lookups run here, a few at a time and each for at most
# RESOLVE_SECONDS, so that a tenant's slow-resolving names cannot hold the API's
# handler threads (the lookup itself cannot be cancelled; its thread finishes alone).
RESOLVE_SECONDS = 3.0
_lookups = ThreadPoolExecutor(4, thread_name_prefix="boxoffice-subscribe-resolve")


def resolve(host: str, port: int, timeout: float = RESOLVE_SECONDS) -> list[str]:
    """Every address ``host`` resolves to (an IP literal is itself), within ``timeout``."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    future = _lookups.submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=timeout)
    except FutureTimeout:
        future.cancel()
        raise OSError(f"no answer within {timeout:g} s") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_url(url: str, *, allow_private: bool, resolve_host: bool = True) -> str:
    """Return ``url`` if the policy lets it be subscribed, else raise :class:`Refused`.

    With ``allow_private`` only the form is checked. Otherwise an IP literal, or every
    address a hostname resolves to (``resolve_host``), must be public; ``localhost``
    and ``*.localhost`` are loopback by definition (RFC 6761)."""
    _, host, port = parse(url)
    if allow_private:
        return url
    if host == "localhost" or host.endswith(".localhost"):
        raise Refused(f"{host} is a loopback name", address=True)
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        check_address(literal)
        return url
    if not resolve_host:
        return url
    try:
        addrs = resolve(host, port)
    except (OSError, UnicodeError) as e:
        raise Refused(f"host {host} could not be resolved ({e})") from None
    if not addrs:
        raise Refused(f"host {host} resolves to no address")
    for a in addrs:
        try:
            check_address(a)
        except Refused as e:
            raise Refused(f"{host} resolves to {e.reason}", address=True) from None
    return url


class AddressRefused(httpcore.ConnectError):
    """Raised by :class:`Backend` before any byte is sent to a refused address."""


# --- the sender's network backend ------------------------------------------------------
#
# Each attempt runs in one sender thread under a deadline (the thread's ``_deadline``);
# every blocking step below (resolving, connecting, the TLS handshake, each read and
# write) is given at most the time left, so the attempt as a whole cannot outlive it,
# however slowly a receiver drips bytes. On a timeout httpcore closes the connection.

_deadline = threading.local()


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Run one attempt, in this thread, under a total deadline of ``seconds``."""
    _deadline.at = time.monotonic() + seconds
    try:
        yield
    finally:
        _deadline.at = None


def _left(timeout: float | None, error: type[Exception]) -> float | None:
    at = getattr(_deadline, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise error("the attempt's deadline passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    """A connection whose every read and write waits at most until the deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _left(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class Backend(httpcore.NetworkBackend):
    """httpcore's network backend for webhook deliveries.

    ``connect_tcp`` resolves the host itself (``socket.getaddrinfo`` on a small pool of
    resolver threads, waited for at most until the deadline), and unless
    ``allow_private``, refuses if ANY address is not public; then connects to the
    checked addresses in turn (never to the name, which could resolve differently a
    second time) and checks the connected socket's peer address again, before a byte
    is sent. TLS still verifies and sends SNI for the URL's host name (httpcore takes
    them from the URL, not from what was connected). Every step is bounded by the
    attempt's deadline (:func:`deadline`)."""

    def __init__(self, allow_private: bool, resolver: ThreadPoolExecutor) -> None:
        self.allow_private = allow_private
        self._resolver = resolver
        self._inner = httpcore.SyncBackend()

    def _addresses(self, host: str, port: int, timeout: float | None) -> tuple[list[str], bool]:
        try:
            return [str(ipaddress.ip_address(host))], True
        except ValueError:
            pass
        if not self.allow_private and (host == "localhost" or host.endswith(".localhost")):
            raise AddressRefused(f"{host} is a loopback name")
        lookup = self._resolver.submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
        try:
            infos = lookup.result(_left(timeout, httpcore.ConnectTimeout))
        except FutureTimeout:
            raise httpcore.ConnectTimeout(f"resolving {host} took too long") from None
        except OSError as e:
            raise httpcore.ConnectError(f"{host} could not be resolved ({e})") from None
        return list(dict.fromkeys(str(info[4][0]) for info in infos)), False

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        addrs, literal = self._addresses(host, port, timeout)
        if not addrs:
            raise httpcore.ConnectError(f"{host} resolves to no address")
        if not self.allow_private:
            for a in addrs:
                try:
                    check_address(a)
                except Refused as e:
                    raise AddressRefused(e.reason if literal else f"{host} resolves to {e.reason}") from None
        error: Exception | None = None
        for a in addrs:
            try:
                stream = self._inner.connect_tcp(a, port, _left(timeout, httpcore.ConnectTimeout), local_address,
                                                 socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
                error = e
                continue
            if not self.allow_private:
                peer = stream.get_extra_info("server_addr")
                try:
                    check_address(peer[0] if peer else "")
                except (Refused, ValueError) as e:
                    stream.close()
                    raise AddressRefused(f"connected to a refused address: {e}") from None
            return _Stream(stream)
        assert error is not None
        raise error

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: typing.Iterable[typing.Any] | None = None
    ) -> httpcore.NetworkStream:
        raise AddressRefused("unix sockets are not webhook destinations")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
