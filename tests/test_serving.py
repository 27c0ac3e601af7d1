"""`boxoffice serve --workers N` on Linux: the supervisor hands connections to the
workers in turn (boxoffice/serving.py says why); what uvicorn's supervisor did still
works (a port in use refused, a dead worker replaced, TLS, a clean stop)."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from .helpers import free_port, wait_healthy

BIN = Path(sys.executable).parent / "boxoffice"
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT spreads connections on Linux only")


@pytest.fixture
def env(tmp_path):
    e = {**os.environ, "BOXOFFICE_DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}", "BOXOFFICE_BACKGROUND": "false"}
    subprocess.run([str(BIN), "migrate"], env=e, check=True, capture_output=True, timeout=120)
    return e


def serve(env: dict[str, str], port: int, workers: int = 2) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN), "serve", "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
        env=env, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )


def log_of(proc: subprocess.Popen) -> str:
    """What a stopped server wrote to stderr."""
    return proc.stderr.read() if proc.stderr else ""


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def holders(port: int, pids: list[int]) -> Counter[int]:
    """How many established connections on local ``port`` each of ``pids`` holds
    (/proc/net/tcp's inodes matched with each process's socket descriptors)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        f = line.split()
        if int(f[1].split(":")[1], 16) == port and f[3] == "01":  # 01: ESTABLISHED
            inodes.add(f[9])
    held: Counter[int] = Counter()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                held[pid] += 1
    return held


def connect_and_ask(port: int, n: int, context: ssl.SSLContext | None = None) -> list[socket.socket]:
    """``n`` keep-alive connections opened together, then each asked for /healthz (so
    each is held by the worker that answered)."""
    conns = [socket.create_connection(("127.0.0.1", port), timeout=60) for _ in range(n)]  # a worker may still be starting
    if context is not None:
        conns = [context.wrap_socket(c, server_hostname="localhost") for c in conns]
    for c in conns:
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    for c in conns:
        assert c.recv(4096).startswith(b"HTTP/1.1 200")
    return conns


def test_connections_made_at_once_are_shared_evenly(env):
    """With uvicorn's shared socket the worker woken first accepted every waiting
    connection: 16 opened together all went to one worker (this test, run against it).
    Handed out in turn, each worker holds half."""
    port = free_port()
    proc = serve(env, port)
    try:
        both_serving(port, serving_workers(proc.pid, lambda now: len(now) == 2))  # a worker starting takes none
        for n in (4, 16):
            conns = connect_and_ask(port, n)
            try:
                held = holders(port, children(proc.pid))
                assert sorted(held.values()) == [n // 2, n // 2], held
            finally:
                for c in conns:
                    c.close()
            time.sleep(0.2)  # closed on the server's side too before the next count
    finally:
        stop(proc)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""


def test_a_second_server_on_the_port_fails_to_start(env):
    """Sockets bound with SO_REUSEPORT by one user may share a port: without the plain
    bind first, a second `boxoffice serve` would silently take half the connections."""
    port = free_port()
    first = serve(env, port)
    try:
        wait_healthy(f"http://127.0.0.1:{port}")
        for workers in (2, 1):
            second = serve(env, port, workers)
            try:
                _, err = second.communicate(timeout=60)
            finally:
                if second.poll() is None:
                    stop(second)
            assert second.returncode != 0
            assert "address already in use" in err.lower(), err
    finally:
        stop(first)


def test_a_port_taken_by_another_program_is_refused(env):
    port = free_port()
    with socket.socket() as other:
        other.bind(("127.0.0.1", port))
        other.listen()
        proc = serve(env, port)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "address already in use" in err.lower(), err


def test_a_killed_worker_is_replaced_and_connections_go_to_the_live_ones(env):
    """uvicorn's supervisor restarts a dead worker. Meanwhile every connection goes to
    the live one (none is lost); once the replacement's app has started, it takes its
    turn again."""
    port = free_port()
    proc = serve(env, port)
    try:
        workers = serving_workers(proc.pid, lambda now: len(now) == 2)
        both_serving(port, workers)
        os.kill(workers[0], signal.SIGKILL)
        gone(workers[0])
        for c in connect_and_ask(port, 8):
            c.close()
        now = serving_workers(proc.pid, lambda now: len(now) == 2 and workers[0] not in now)
        both_serving(port, now)
        conns = connect_and_ask(port, 8)
        try:
            assert sorted(holders(port, now).values()) == [4, 4]
        finally:
            for c in conns:
                c.close()
    except BaseException:
        stop(proc)
        print(log_of(proc))
        raise
    stop(proc)


def both_serving(port: int, workers: list[int], seconds: float = 90) -> None:
    """Until a pair of connections is held one by each of ``workers`` (a worker takes
    its turn once its app has started)."""
    deadline = time.monotonic() + seconds
    while True:
        conns = connect_and_ask(port, 2)
        try:
            if len(holders(port, workers)) == 2:
                break
        finally:
            for c in conns:
                c.close()
        assert time.monotonic() < deadline, f"{workers} are not both serving"
        time.sleep(0.2)
    time.sleep(0.2)  # closed on the server's side too before the next count


def test_tls_with_several_workers(env, tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN), "serve", "--port", str(port), "--workers", "2", "--log-level", "warning", "--no-access-log",
         "--tls-self-signed", "--tls-dir", str(tmp_path / "tls")],
        env=env, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        context = ssl.create_default_context()
        deadline = time.monotonic() + 60
        while not (tmp_path / "tls" / "ca.pem").exists():
            assert time.monotonic() < deadline
            time.sleep(0.1)
        context.load_verify_locations(cafile=str(tmp_path / "tls" / "ca.pem"))
        wait_healthy(f"https://127.0.0.1:{port}", verify=context)
        for c in connect_and_ask(port, 4, context):
            c.close()
    finally:
        stop(proc)


def gone(pid: int, seconds: float = 30) -> None:
    """Until ``pid`` holds no descriptor: a connection handed to a worker in the instant
    it dies is lost with it (serving.py). It turns Z while its other threads still exit
    and hold the descriptors they share, so every thread's are looked at."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if not any(os.listdir(f"/proc/{pid}/task/{t}/fd") for t in os.listdir(f"/proc/{pid}/task")):
                return
        except OSError:  # reaped, or a thread gone while looked at
            if not os.path.exists(f"/proc/{pid}"):
                return
        time.sleep(0.02)
    pytest.fail(f"{pid} did not exit")


def serving_workers(parent: int, done, seconds: float = 90) -> list[int]:  # type: ignore[no-untyped-def]
    """The uvicorn workers of ``parent`` (not multiprocessing's resource tracker), once
    ``done`` holds for them."""
    deadline = time.monotonic() + seconds
    now: list[int] = []
    while time.monotonic() < deadline:
        now = []
        for p in children(parent):
            try:
                if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes():
                    now.append(p)
            except OSError:
                continue
        if done(now):
            return now
        time.sleep(0.2)
    pytest.fail(f"workers of {parent}: {now}")
