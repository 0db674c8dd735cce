"""Shared fixtures: a real Redis server for the ``--index redis://`` tests."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

#: How long a fresh redis-server may take to answer PING.
_REDIS_START_SECONDS = 10.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the moment of asking)."""
    return _free_port()


@pytest.fixture
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server of its own on a free port of 127.0.0.1, without persistence, in a
    temporary folder; its URL, and the server stopped afterwards (also when the test fails).
    A missing redis-server fails the test: `make test` installs it."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server is not installed (the --index redis:// tests need a real server): "
            "run `make test`, which installs it (apt-get install redis-server)",
            pytrace=False,
        )
    import redis  # the client of the test extra; only these tests need it

    folder: Path = tmp_path_factory.mktemp("redis")
    port = _free_port()
    log = folder / "redis.log"
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder), "--logfile", str(log)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + _REDIS_START_SECONDS
        while True:
            if server.poll() is not None:
                said = log.read_text(errors="replace") if log.exists() else ""
                pytest.fail(f"redis-server exited with status {server.returncode}:\n{said}")
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    pytest.fail(f"redis-server on port {port} did not answer PING in time")
                time.sleep(0.05)
        client.close()
        yield f"redis://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def processes_mentioning(text: str) -> list[int]:
    """The processes of this machine whose command line holds ``text`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in command:
            found.append(int(entry.name))
    return found


def wait_until_gone(text: str, seconds: float = 10.0) -> list[int]:
    """Wait for the processes that mention ``text`` to end; those still running after."""
    deadline = time.monotonic() + seconds
    while (left := processes_mentioning(text)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left
