"""The worker's connections to receivers: aiohttp's connector and resolver with the URL
policy of urlpolicy.py applied at send time (kept apart from urlpolicy so that the API,
which checks URLs when they are subscribed, does not import aiohttp).

aiohttp connects to exactly the addresses its resolver answers and asks no resolver for
an IP literal: names are checked here (:class:`Resolver`), literals by
``urlpolicy.check_literal`` before the request, and the connected peer once more
(:class:`Connector`)."""

from __future__ import annotations

import asyncio
import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from .urlpolicy import AddressRefused, Refused, check_address


class Resolver(AbstractResolver):
    """aiohttp's resolver for webhook deliveries.

    Resolves with ``socket.getaddrinfo`` on the worker's small pool of resolver threads
    (not the event loop's own resolver: uvloop's bypasses the socket module), and unless
    ``allow_private``, refuses the whole name if ANY address is not public, before any
    connection: aiohttp then connects only to the addresses answered here, so a name
    that changes its answer (DNS rebinding) cannot slip a private address in between.
    ``localhost`` and ``*.localhost`` are loopback by definition (RFC 6761).

    Written here rather than taken from aiohttp (its ThreadedResolver has no address
    policy) because the policy is the point; the resolving itself is the socket module's."""

    def __init__(self, allow_private: bool, pool: ThreadPoolExecutor) -> None:
        self.allow_private = allow_private
        self._pool = pool

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
                      ) -> list[ResolveResult]:
        name = host.rstrip(".")
        if not self.allow_private and (name == "localhost" or name.endswith(".localhost")):
            raise AddressRefused(f"{host} is a loopback name")
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.run_in_executor(self._pool, socket.getaddrinfo, host, port, family, socket.SOCK_STREAM)
        except (OSError, UnicodeError) as e:
            raise OSError(f"{host} could not be resolved ({e})") from None
        out: list[ResolveResult] = []
        seen: set[str] = set()
        for fam, _, proto, _, addr in infos:
            ip = str(addr[0])
            if ip in seen:
                continue
            seen.add(ip)
            if not self.allow_private:
                try:
                    check_address(ip)
                except Refused as e:
                    raise AddressRefused(f"{host} resolves to {e.reason}") from None
            out.append(ResolveResult(hostname=host, host=ip, port=port, family=fam, proto=proto,
                                     flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV))
        if not out:
            raise OSError(f"{host} resolves to no address")
        return out

    async def close(self) -> None:
        pass


class Connector(aiohttp.TCPConnector):
    """aiohttp's connector with the policy: names resolved by :class:`Resolver`, and
    (unless ``allow_private``) the connected socket's peer address checked once more
    before the request is written, the connection closed if it is refused. (aiohttp has
    no public hook between connecting and sending; this wraps the one method that
    connects, passing every argument through.)"""

    def __init__(self, *, allow_private: bool, resolver_pool: ThreadPoolExecutor, **kwargs: Any) -> None:
        super().__init__(resolver=Resolver(allow_private, resolver_pool), use_dns_cache=False, **kwargs)
        self.allow_private = allow_private

    async def _wrap_create_connection(self, *args: Any, **kwargs: Any) -> Any:
        transport, protocol = await super()._wrap_create_connection(*args, **kwargs)
        if not self.allow_private:
            peer = transport.get_extra_info("peername")
            try:
                check_address(str(peer[0]) if peer else "")
            except (Refused, ValueError) as e:
                transport.close()
                raise AddressRefused(f"connected to a refused address: {e}") from None
        return transport, protocol
