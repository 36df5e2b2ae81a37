"""A real Ray head for the cluster tests: started on 127.0.0.1 with 2 CPUs by the fixture and
stopped after the module's tests (skipped cleanly when the `cluster` extra is not installed).

The head advertises one GPU, labels itself `tradeoff/accelerator=A100-80GB` and has the custom
resource `accelerator:L4-standin`: Ray's
resources stand in for a GPU node, so CUDA placement is tested on a machine without one (the
task lands on the node, asks torch for CUDA there, and that row fails saying so)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("ray", reason="the cluster extra (Ray) is not installed")

FAKE_ACCELERATOR = "A100-80GB"
#: a second accelerator name the head has only as a custom resource (`accelerator:NAME`)
RESOURCE_ACCELERATOR = "L4-standin"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cluster_env() -> dict[str, str]:
    """The environment for the head and every client: no token auth (the tests' HOME is not the
    developer's), Ray's usage report off (no network)."""
    return {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


@pytest.fixture(scope="session")
def ray_head(_ray_head_ports: tuple[str, int]) -> str:
    """The address (127.0.0.1:PORT) of a Ray head with 2 CPUs, 1 stand-in GPU and the label."""
    return _ray_head_ports[0]


@pytest.fixture(scope="session")
def ray_client(_ray_head_ports: tuple[str, int]) -> str:
    """The same head through Ray Client: ray://127.0.0.1:PORT."""
    return f"ray://127.0.0.1:{_ray_head_ports[1]}"


@pytest.fixture(scope="session")
def _ray_head_ports() -> Iterator[tuple[str, int]]:
    """(the head's address, its Ray Client port), the head started and stopped here."""
    port, client_port = _free_port(), _free_port()
    # Ray's socket paths must stay short: a temp dir of our own directly under /tmp
    temp_dir = tempfile.mkdtemp(prefix="rt", dir="/tmp")
    ray_bin = str(Path(sys.executable).with_name("ray"))
    cmd = [
        ray_bin, "start", "--head", "--block", f"--port={port}", "--node-ip-address=127.0.0.1",
        "--num-cpus=2", "--num-gpus=1", f"--labels=tradeoff/accelerator={FAKE_ACCELERATOR}",
        f'--resources={{"accelerator:{RESOURCE_ACCELERATOR}": 1}}',
        "--include-dashboard=false", f"--temp-dir={temp_dir}", "--disable-usage-stats",
        f"--ray-client-server-port={client_port}",
    ]  # fmt: skip
    log = open(Path(temp_dir) / "head.log", "wb")  # noqa: SIM115 - closed at teardown
    head = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=cluster_env(), start_new_session=True)
    address = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if head.poll() is not None:
            raise RuntimeError((Path(temp_dir) / "head.log").read_text(errors="replace")[-2000:])
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.5)
    time.sleep(2.0)  # the raylet registers after the GCS port opens
    try:
        yield address, client_port
    finally:
        import signal

        try:
            # SIGINT to `ray start --block` stops what it started in about a second (SIGTERM to
            # the group takes ~30 s: Ray's processes wait out a grace period)
            head.send_signal(signal.SIGINT)
            head.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(temp_dir, ignore_errors=True)


def run_cli(*args: str, timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tradeoff", *args],
        capture_output=True, text=True, timeout=timeout, env=env or cluster_env(),
    )  # fmt: skip
