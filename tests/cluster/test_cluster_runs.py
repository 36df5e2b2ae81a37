"""`--cluster` against a real local Ray head (tests/cluster/conftest.py): what the cluster has,
variants streamed back as rows with their node, CUDA placement on the stand-in GPU node, an
accelerator no node has, trust enforced on the node, a killed task, and cancel."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.cluster.conftest import FAKE_ACCELERATOR, RESOURCE_ACCELERATOR, cluster_env, run_cli

# one xdist worker runs every test that uses the Ray head: the killed-task and cancel tests look
# for Ray task processes machine-wide and must not see another test's
pytestmark = pytest.mark.xdist_group("ray")


def test_cluster_command_says_what_the_cluster_has(ray_head: str) -> None:
    import ray

    done = run_cli("cluster", ray_head, "--json", "-")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["schema"] == "tradeoff.cluster/1"
    (node,) = doc["nodes"]
    assert node["alive"] and node["cpus"] == 2 and node["gpus"] == 1
    assert doc["gpus_by_type"] == {FAKE_ACCELERATOR: 1}
    assert doc["cluster_versions"]["ray"] == ray.__version__ == doc["client_versions"]["ray"]
    assert doc["cluster_versions"]["tradeoff"] == doc["client_versions"]["tradeoff"]
    text = run_cli("cluster", ray_head)
    assert f"1 × {FAKE_ACCELERATOR}" in text.stdout and f"Ray {ray.__version__}" in text.stdout


def test_ray_client_addresses_work(ray_client: str) -> None:
    done = run_cli("cluster", ray_client, "--json", "-")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["gpus_by_type"] == {FAKE_ACCELERATOR: 1}


def test_a_wrong_address_is_one_line(tmp_path: Path) -> None:
    done = run_cli("cluster", "127.0.0.1:1", timeout=180)
    assert done.returncode == 2
    assert done.stderr.startswith("error: --cluster: cannot connect to 127.0.0.1:1"), done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_sweep_streams_rows_with_their_node(ray_head: str, tmp_path: Path) -> None:
    from profiler.sweep import SweepDocument

    out = tmp_path / "sweep.json"
    done = run_cli(
        "sweep", "demo:digits-cnn", "--prune", "0,0.3", "--precision", "fp32,int8",
        "--cluster", ray_head, "--progress", "--json", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stderr.splitlines() if line.startswith("progress:") and " done on " in line]
    assert [r.split("]")[0].split("[")[1] for r in rows] == ["1/4", "2/4", "3/4", "4/4"]  # one line per row
    doc = json.loads(out.read_text())
    SweepDocument.from_dict(doc)  # the contract's reader accepts it
    labels = [v["label"] for v in doc["variants"]]
    assert labels == ["fp32", "int8", "prune 0.3 structured · fp32", "prune 0.3 structured · int8"]  # grid order
    for v in doc["variants"]:
        assert v["error"] is None
        env = v["environment"]
        assert env["host"] and env["cpu"] and env["versions"]["tradeoff"]
        assert env["pinned_cores"] and len(env["pinned_cores"]) == 1  # one leased core per CPU variant
    assert doc["model"]["source"] == "demo:digits-cnn"


def test_an_onnx_file_travels_by_content(ray_head: str, tmp_path: Path) -> None:
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))
    path = tmp_path / "tiny.onnx"
    torch.onnx.export(model, (torch.randn(1, 8),), str(path), dynamo=False)
    out = tmp_path / "s.json"
    done = run_cli("sweep", str(path), "--prune", "0,0.5", "--precision", "fp32,int8", "--cluster", ray_head,
                   "--json", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    doc = json.loads(out.read_text())
    assert doc["model"]["source"] == str(path)  # the user's path, not the node's hash folder
    ok = {v["label"] for v in doc["variants"] if v["error"] is None}
    assert ok == {"fp32", "int8"}
    # an ONNX graph cannot be pruned structurally: the row's error names the user's file too
    errors = [v["error"] for v in doc["variants"] if v["error"]]
    assert errors and all(e.startswith(f"{path}: ") and "tradeoff-cluster" not in e for e in errors), errors


def test_cuda_lands_on_the_gpu_node_and_an_absent_accelerator_is_refused(ray_head: str, tmp_path: Path) -> None:
    out = tmp_path / "cuda.json"
    done = run_cli(
        "sweep", "demo:digits-cnn", "--device", "cuda", "--accelerator", FAKE_ACCELERATOR,
        "--cluster", ray_head, "--json", str(out),
    )  # fmt: skip
    # placed on the labelled node with the (stand-in) GPU, where torch finds no CUDA: the row says so
    assert done.returncode in (2, 3), done.stderr
    assert "cuda" in done.stderr.lower() and "Traceback" not in done.stderr
    assert "no node of the cluster" not in done.stderr  # placed, and refused by the node itself
    # the same through a custom resource `accelerator:NAME` instead of a label
    by_resource = run_cli(
        "sweep", "demo:mlp", "--device", "cuda", "--accelerator", RESOURCE_ACCELERATOR, "--cluster", ray_head
    )
    assert by_resource.returncode in (2, 3) and "cuda" in by_resource.stderr.lower(), by_resource.stderr
    assert "no node of the cluster" not in by_resource.stderr
    missing = run_cli("sweep", "demo:digits-cnn", "--accelerator", "H100-SXM", "--cluster", ray_head)
    assert missing.returncode == 2
    assert "no node of the cluster has accelerator H100-SXM" in missing.stderr


def test_trust_is_the_local_users_and_holds_on_the_node(ray_head: str, tmp_path: Path) -> None:
    from tests.hostile_files import assert_no_payload_ran, hostile_file

    evil = hostile_file(".ckpt raw pickle", tmp_path)
    done = run_cli("sweep", str(evil), "--cluster", ray_head)
    assert done.returncode == 2
    assert "--trust" in done.stderr and "Traceback" not in done.stderr
    time.sleep(0.5)
    assert_no_payload_ran(tmp_path)


def test_version_mismatch_is_the_rows_error(ray_head: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in cluster_env().items():
        monkeypatch.setenv(key, value)
    from profiler.analyze import ProfileRequest
    from profiler.cluster.client import ClusterSession
    from profiler.cluster.runs import measure_variants
    from profiler.tasks import request_to_dict
    from profiler.variant import Variant

    with ClusterSession(ray_head) as session:
        session.client_versions = {**session.client_versions, "tradeoff": "99.0"}
        payload = {
            "source": "demo:digits-cnn",
            "trust": False,
            "request": request_to_dict(ProfileRequest()),
            "inputs": None,
        }
        (row,) = measure_variants(session, payload, [Variant()], time_limit_s=120)
    assert row.result.error is not None and "version mismatch" in row.result.error
    assert "tradeoff" in row.result.error and row.exit_code == 2
    assert row.node is not None and row.node["host"]  # the row names the node that refused


def _ray_task_processes(head: str) -> list[psutil.Process]:
    """The processes running a studio task on `head`'s cluster: a Ray worker descends from that
    head's raylet, whose command line names the head as `--gcs-address=NODE_IP:PORT`. Another
    Ray cluster on the machine (another test run's) is not ours to count or kill."""
    port = head.rsplit(":", 1)[1]

    def on_our_head(parent: psutil.Process) -> bool:
        return any(a.startswith("--gcs-address=") and a.endswith(f":{port}") for a in parent.cmdline())

    found = []
    for p in psutil.process_iter(["cmdline"]):
        try:
            if any("ray::run_on_node" in part for part in p.info["cmdline"] or ()) and any(
                on_our_head(parent) for parent in p.parents()
            ):
                found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def _start_sweep(ray_head: str, out: Path, prunes: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tradeoff", "sweep", "demo:digits-cnn", "--prune", prunes, "--cluster", ray_head,
         "--json", str(out), "--progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cluster_env(),
    )  # fmt: skip


def _wait_for_tasks(head: str, count: int, timeout_s: float = 120) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if len(found := _ray_task_processes(head)) >= count:
            return found
        time.sleep(0.2)
    raise AssertionError("no Ray task started")


def test_a_killed_task_is_its_rows_error_and_the_sweep_goes_on(ray_head: str, tmp_path: Path) -> None:
    out = tmp_path / "k.json"
    proc = _start_sweep(ray_head, out, "0,0.3,0.5")
    victim = _wait_for_tasks(ray_head, 1)[0]
    victim.kill()
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    doc = json.loads(out.read_text())
    errors = [v["error"] for v in doc["variants"] if v["error"]]
    assert len(errors) == 1 and "died" in errors[0], errors
    assert sum(v["error"] is None for v in doc["variants"]) == 2


def test_cancel_cancels_the_remote_tasks(ray_head: str, tmp_path: Path) -> None:
    proc = _start_sweep(ray_head, tmp_path / "c.json", "0,0.1,0.2,0.3,0.4,0.5")
    _wait_for_tasks(ray_head, 1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    deadline = time.monotonic() + 60
    while _ray_task_processes(ray_head) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _ray_task_processes(ray_head), "remote tasks still run after cancel"
    assert not (tmp_path / "c.json").exists()


def test_optimize_and_profile_measure_on_the_cluster(ray_head: str, tmp_path: Path) -> None:
    done = run_cli("optimize", "demo:digits-cnn", "--cluster", ray_head, "--budget", "3v", "--progress", "--json", "-")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["schema"] == "tradeoff.optimize/1" and len(doc["trials"]) == 3
    assert doc["measurements"]["failed"] == 0 and doc["recommendation"] is not None
    assert sum(" done on " in line for line in done.stderr.splitlines()) >= 3  # one line per measured variant
    assert f"quality and latency were measured on the cluster at {ray_head} (nodes: " in done.stderr
    prof = run_cli("profile", "demo:digits-cnn", "--cluster", ray_head, "--json", "-")
    assert prof.returncode == 0, prof.stderr
    p = json.loads(prof.stdout)
    assert p["schema"] == "tradeoff.profile/1" and p["totals"]["latency_ms"]["median"] > 0
    assert p["config"]["threads"] == 1  # the one core the node leased it


def test_a_variant_over_its_time_limit_is_its_rows_error(ray_head: str, tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    done = run_cli("sweep", "demo:resnet18", "--prune", "0,0.3", "--time-limit", "1", "--cluster", ray_head)
    # the node's worker stops each run at its limit, as a local run does: no row measured, exit 3
    assert done.returncode == 3, done.stderr
    assert "no variant could be measured" in done.stderr and "time limit" in done.stderr.lower(), done.stderr
    assert not out.exists()
