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
the addresses actually connected to (``sending.Resolver``, :func:`check_literal`): the host
is resolved once, every address checked, and the connection made to a checked address,
so a name that changes its answer (DNS rebinding) cannot slip a private address in
between.

The address classes come from the standard library's :mod:`ipaddress` (``is_global``
and friends, IANA's special-purpose registries); what is written here is only the
glue: which classes are refused, the odd-spelling rule, and the resolve-then-connect.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from urllib.parse import urlsplit

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
    raises :class:`Refused` otherwise. Parsed with :func:`urllib.parse.urlsplit`; the
    form it accepts leaves no room for the sender's parser (yarl) to read another host."""
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


class AddressRefused(Exception):
    """Raised by :class:`Resolver` (or :func:`check_literal`) before any connection is
    made to a refused address."""


# --- at send time -----------------------------------------------------------------------
#
# The worker sends with aiohttp (webhooks/sending.py). aiohttp connects to exactly the
# addresses its resolver answers (``loop.create_connection`` on each answer's ``host``,
# the URL's host name kept for TLS's SNI and certificate check), and asks no resolver for
# an IP literal: so the policy is sending.Resolver for names and check_literal below for
# literals; sending.Connector checks the connected peer once more.


def check_literal(host: str, *, allow_private: bool) -> None:
    """Refuse (:class:`AddressRefused`) an IP-literal host that is not public; a name
    is left to :class:`Resolver`. ``host`` is the host as the sender reads the URL
    (``yarl.URL(url).raw_host``)."""
    if allow_private:
        return
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return
    reason = address_refusal(ip)
    if reason:
        raise AddressRefused(f"{ip} is not a public address ({reason})")
