"""``boxoffice serve``'s uvicorn: with several workers on Linux, each worker listens on
a socket of its own bound with SO_REUSEPORT, so that the kernel spreads new connections
over the workers.

Why: uvicorn's workers share one listening socket, and a worker woken for a connection
accepts every connection waiting (its event loop accepts up to the backlog per
wake-up). Keep-alive clients that connect at once (a proxy's pool, an app's HTTP
client) then all land on one worker while the others idle: with 4 clients querying and
2 workers, one worker did 97 % of the work in each of 6 runs (README "Benchmarks").
SO_REUSEPORT hashes each new connection to one worker's socket, as nginx's
``reuseport`` does. Elsewhere (macOS and the BSDs do not spread connections this way),
with one worker, or on a Unix socket or inherited fd: uvicorn's own ``run``.

What it costs: a worker that dies takes with it the connections waiting in its own
socket's queue, not yet accepted (the kernel resets them; a shared socket would have
left them to the other workers). Linux 5.14+ hands them to a live worker with
``sysctl net.ipv4.tcp_migrate_req=1`` (docs/deploy.md).
"""

from __future__ import annotations

import socket
import sys
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE, logger
from uvicorn.supervisors import multiprocess


def run_uvicorn(app: str, **kw: Any) -> int:
    """``uvicorn.run(app, **kw)``, its workers on SO_REUSEPORT sockets where that spreads
    connections (the module says why). Returns the process's exit status."""
    if (kw.get("workers") or 1) <= 1 or not sys.platform.startswith("linux") or kw.get("uds") or kw.get("fd") is not None:
        uvicorn.run(app, **kw)
        return 0
    config = uvicorn.Config(app, **kw)
    family = _family(config.host)
    # Another server on this port must make this one fail, as with a shared socket:
    # first a plain bind (refused while any socket holds the port, SO_REUSEPORT or
    # not), then, for as long as this process lives, a reuseport socket that never
    # listens: it takes no connection, and it keeps a second server's plain bind failing
    # while workers restart.
    try:
        with socket.socket(family) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((config.host, config.port))
            port = probe.getsockname()[1]  # port 0: the one the kernel chose, for every worker
        guard = reuseport_socket(family, config.host, port)
    except OSError as e:
        logger.error(e)
        return STARTUP_FAILURE
    config.port = port
    scheme = "https" if config.is_ssl else "http"
    shown = f"[{config.host}]" if family == socket.AF_INET6 else config.host
    logger.info("Uvicorn running on %s://%s:%d (Press CTRL+C to quit)", scheme, shown, port)
    # uvicorn's supervisor (health checks, restarts, SIGHUP, SIGTTIN/SIGTTOU) makes
    # each worker with its module's Process: ours binds the worker's own socket.
    made = multiprocess.Process
    multiprocess.Process = ReusePortWorker  # type: ignore[misc]
    try:
        multiprocess.Multiprocess(config, sockets=[]).run()
    finally:
        multiprocess.Process = made  # type: ignore[misc]
        guard.close()
    return 0


def _family(host: str | None) -> socket.AddressFamily:
    return socket.AF_INET6 if host and ":" in host else socket.AF_INET  # as uvicorn's bind_socket


def reuseport_socket(family: socket.AddressFamily, host: str, port: int) -> socket.socket:
    sock = socket.socket(family)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class ReusePortWorker(multiprocess.Process):
    """A uvicorn worker that listens on a SO_REUSEPORT socket of its own."""

    def target(self, sockets: list[socket.socket] | None = None) -> None:  # in the worker process
        try:
            sock = reuseport_socket(_family(self.config.host), self.config.host, self.config.port)
        except OSError as e:
            logger.error(e)
            sys.exit(STARTUP_FAILURE)  # the supervisor stops: every restart would fail the same way
        super().target([sock])
