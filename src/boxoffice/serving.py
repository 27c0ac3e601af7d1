"""``boxoffice serve``'s uvicorn. With several workers on Linux the supervisor accepts
each connection and hands it to the workers in turn, as Node.js's cluster module does
by default.

Why: uvicorn's workers share one listening socket, and a worker woken for a connection
accepts every connection waiting (its event loop accepts up to the backlog per
wake-up). Keep-alive clients that connect at once (a proxy's pool, an app's HTTP
client) then land on one worker while the others idle: 4 connections opened together by
one client process went to one worker in 6 of 6 runs. Sockets of their own per worker
(SO_REUSEPORT) were measured too and did not pay: the kernel hashes few connections at
random, and left one of two workers idle in 2 of 6 runs where the shared socket had
balanced 4 of 6 (README "Benchmarks").

How: the supervisor listens; a thread accepts and sends each connection's descriptor
(SCM_RIGHTS) over a Unix socket pair to the next worker whose app has started, which serves it with
uvicorn's own protocol (``loop.connect_accepted_socket``). Everything else is
uvicorn's supervisor: health checks, restarts, SIGHUP, SIGTTIN/SIGTTOU. A worker that
dies loses the connections it was handed and had not yet taken (sent in the instant
before it died); the next ones go to the live workers.

Hand-written: uvicorn and Granian offer no such mode. Elsewhere (not Linux), with one
worker, or on a Unix socket or inherited fd: uvicorn's own ``run``.
"""

from __future__ import annotations

import asyncio
import select
import socket
import sys
import threading
import time
from typing import Any

import uvicorn
from uvicorn.config import Config, logger
from uvicorn.supervisors import multiprocess

_dispatcher: Dispatcher | None = None  # the supervisor's, while run_uvicorn runs


def run_uvicorn(app: str, **kw: Any) -> int:
    """``uvicorn.run(app, **kw)``, its workers handed connections in turn where that is
    possible (the module says why). Returns the process's exit status."""
    global _dispatcher
    if (kw.get("workers") or 1) <= 1 or not sys.platform.startswith("linux") or kw.get("uds") or kw.get("fd") is not None:
        uvicorn.run(app, **kw)
        return 0
    config = Config(app, **kw)
    listener = config.bind_socket()  # a port in use: logged, exit status 3, as uvicorn.run
    listener.listen(config.backlog)
    _dispatcher = Dispatcher(listener)
    made = multiprocess.Process
    multiprocess.Process = DispatchedWorker  # type: ignore[misc]
    try:
        multiprocess.Multiprocess(config, sockets=[]).run()
    finally:
        multiprocess.Process = made  # type: ignore[misc]
        _dispatcher.stop()
        _dispatcher = None
        listener.close()
    return 0


class Dispatcher:
    """Accepts on the supervisor's socket and hands each connection to the next ready
    worker's channel (round robin). A worker joins the turn when it says it is ready
    (its app started), so a starting worker holds no connection while another could
    answer; a channel whose worker is gone is dropped at the first send that fails; one
    that cannot take a connection within a second (its worker hung) is skipped for that
    connection. With no worker ready, or none that took it, a connection waits (the
    kernel's backlog holds the next ones) up to ``READY_WAIT`` seconds, then is closed."""

    SEND_WAIT = 1.0
    READY_WAIT = 60.0

    def __init__(self, listener: socket.socket) -> None:
        self.listener = listener
        self.starting: list[socket.socket] = []
        self.ready: list[socket.socket] = []
        self.turn = 0
        self.lock = threading.Lock()
        self.stopping = False
        self.thread: threading.Thread | None = None

    def add(self, channel: socket.socket) -> None:
        channel.settimeout(self.SEND_WAIT)
        with self.lock:
            self.starting.append(channel)
            if self.thread is None:
                self.thread = threading.Thread(target=self._accept, name="boxoffice-dispatch", daemon=True)
                self.thread.start()

    def remove(self, channel: socket.socket) -> None:
        with self.lock:
            for group in (self.starting, self.ready):
                if channel in group:
                    group.remove(channel)
        channel.close()

    def stop(self) -> None:
        self.stopping = True
        if self.thread is not None:
            self.thread.join(timeout=5)
        with self.lock:
            for channel in self.starting + self.ready:
                channel.close()
            self.starting.clear()
            self.ready.clear()

    def _accept(self) -> None:
        self.listener.settimeout(0.5)  # to see `stopping`
        while not self.stopping:
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError as e:  # out of descriptors, or the socket closed
                if self.stopping:
                    return
                logger.warning("accept: %s", e)
                threading.Event().wait(0.05)
                continue
            with conn:
                self.hand(conn)

    def _started(self) -> None:
        """Moves the workers that said "ready" into the turn, drops those that died starting."""
        with self.lock:
            starting = list(self.starting)
        try:
            spoke, _, _ = select.select(starting, [], [], 0)
        except (OSError, ValueError):  # one closed meanwhile (its worker was stopped): next time
            return
        for channel in spoke:
            try:
                said = channel.recv(1)
            except OSError:
                said = b""
            if said:
                with self.lock:
                    self.starting.remove(channel)
                    self.ready.append(channel)
            else:
                self.remove(channel)

    def hand(self, conn: socket.socket) -> bool:
        deadline = time.monotonic() + self.READY_WAIT
        while not self.stopping:
            self._started()
            with self.lock:
                n = len(self.ready)
                order = [self.ready[(self.turn + i) % n] for i in range(n)]
                self.turn = (self.turn + 1) % n if n else 0
            for channel in order:
                try:
                    socket.send_fds(channel, [b"c"], [conn.fileno()])
                    return True
                except TimeoutError:  # this worker is not reading: the next one
                    continue
                except OSError:  # this worker is gone
                    self.remove(channel)
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)  # no worker ready, or none took it: wait for one
        return False  # the client's connection is closed


class DispatchedWorker(multiprocess.Process):
    """A uvicorn worker that serves the connections its supervisor hands it."""

    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        self.channel, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._theirs = theirs
        super().__init__(config, [theirs])

    def __getstate__(self) -> dict[str, Any]:  # what the worker process receives
        state = self.__dict__.copy()
        del state["channel"]  # the supervisor's end stays in the supervisor
        return state

    def start(self) -> None:
        super().start()
        self._theirs.close()  # the worker has its copy: when it dies, sends fail
        assert _dispatcher is not None
        _dispatcher.add(self.channel)

    def terminate(self) -> None:
        if _dispatcher is not None:
            _dispatcher.remove(self.channel)
        super().terminate()

    def kill(self) -> None:
        if _dispatcher is not None:
            _dispatcher.remove(self.channel)
        super().kill()

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            self._server = DispatchedServer(config=self.config)
        return self._server


class DispatchedServer(uvicorn.Server):
    """uvicorn's server, listening on nothing: connections arrive over ``sockets[0]``,
    the channel from the supervisor."""

    channel: socket.socket | None = None
    _create_protocol: Any = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        assert sockets
        await super().startup(sockets=[])  # the app's lifespan; no listener
        config, loop = self.config, asyncio.get_running_loop()

        def create_protocol(_loop: asyncio.AbstractEventLoop | None = None) -> asyncio.Protocol:
            # as uvicorn's own startup makes each connection's protocol
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state, _loop=_loop
            )

        self.channel = sockets[0]
        self.channel.setblocking(False)
        self._create_protocol = create_protocol
        loop.add_reader(self.channel.fileno(), self._take, loop, create_protocol)
        self.channel.send(b"r")  # ready: the supervisor hands this worker connections from now on

    def _take(self, loop: asyncio.AbstractEventLoop, create_protocol: Any) -> None:
        assert self.channel is not None
        while True:
            try:
                msg, fds, _, _ = socket.recv_fds(self.channel, 16, 64)
            except BlockingIOError:
                return
            except OSError:
                msg, fds = b"", []
            if not msg and not fds:  # the supervisor is gone: finish what is open, then stop
                loop.remove_reader(self.channel.fileno())
                self.should_exit = True
                return
            for fd in fds:
                conn = socket.socket(fileno=fd)
                conn.setblocking(False)
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                loop.create_task(self._serve_one(loop, create_protocol, conn))

    async def _serve_one(self, loop: asyncio.AbstractEventLoop, create_protocol: Any, conn: socket.socket) -> None:
        try:
            await loop.connect_accepted_socket(create_protocol, conn, ssl=self.config.ssl)
        except (OSError, ValueError) as e:  # the client left, or a TLS handshake failed
            logger.debug("connection dropped before it was served: %s", e)
            conn.close()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.channel is not None:  # take what was handed over already, then no more
            loop = asyncio.get_running_loop()
            if self.channel.fileno() != -1:
                loop.remove_reader(self.channel.fileno())
                self._take(loop, self._create_protocol)
            if self.channel is not None:
                self.channel.close()
                self.channel = None
            await asyncio.sleep(0)  # the connections just taken register with uvicorn
        await super().shutdown(sockets=None)
